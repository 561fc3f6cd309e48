// Anthropic count_tokens for an alias served by the embedded engine counts with the
// model's own tokenizer (the same count its token limits use), not the byte estimate.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { CALLER_KEY, PROVIDER_KEY, runWarden, startWarden, tempDir } from '../support/warden.mjs';

let warden;
let tokenizerFile;
before(async () => {
  const modelDir = path.join(tempDir('warden-count-tokens-'), 'tiny');
  const made = await runWarden(['model', 'make-tiny', '--arch', 'qwen2', '--out', modelDir, '--seed', '2'], { timeoutMs: 120000 });
  assert.equal(made.code, 0, made.stderr);
  tokenizerFile = path.join(modelDir, 'tokenizer.json');
  warden = await startWarden({
    providers: {
      local: { type: 'local', model_dir: modelDir, device: 'cpu', max_num_seqs: 2, kv_cache: { num_blocks: 64 } },
      cloud: { type: 'openai', base_url: 'http://127.0.0.1:9', api_key: PROVIDER_KEY },
    },
    models: {
      tiny: { targets: [{ provider: 'local', model: 'tiny' }] },
      remote: { targets: [{ provider: 'cloud', model: 'deepseek-v4-flash' }] },
    },
    teams: { t1: {} },  // a key's team must be defined
    keys: [{ id: 'k1', team: 't1', key: CALLER_KEY }],
  }, { startTimeoutMs: 60000 });
});
after(async () => {
  await warden?.stop();
});

async function tokenizerCount(text) {
  const r = await runWarden(['tokenize', '--tokenizer', tokenizerFile, text]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout).length;
}

async function countTokens(model, text) {
  const res = await fetch(`${warden.url}/v1/messages/count_tokens`, {
    method: 'POST',
    headers: { 'x-api-key': CALLER_KEY, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
    body: JSON.stringify({ model, system: 'Be brief.', messages: [{ role: 'user', content: text }] }),
  });
  assert.equal(res.status, 200);
  return (await res.json()).input_tokens;
}

test('a local alias counts exactly: differences between prompts match the tokenizer', async () => {
  // Texts whose estimate (bytes/4, one per non-ASCII character) and BPE count differ.
  const a = 'ééééééééééééééé and the the the the the the';
  const b = 'Supercalifragilistic 12345678901234567890 😀😀😀';
  const exact = (await tokenizerCount(a)) - (await tokenizerCount(b));
  assert.equal((await countTokens('tiny', a)) - (await countTokens('tiny', b)), exact);
  // The cloud alias has no tokenizer: it gets the estimate, which differs here.
  assert.notEqual((await countTokens('remote', a)) - (await countTokens('remote', b)), exact);
});
