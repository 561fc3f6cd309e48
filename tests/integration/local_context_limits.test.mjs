// providers.<local>.max_model_len caps prompt + answer: a longer prompt is a 400
// context_length_exceeded naming both numbers (not a 500, not a breaker failure), a
// shorter one is served; max_num_batched_tokens smaller than the prompt still serves it
// (chunked prefill); the options are refused on a remote provider by `warden check`.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { postChat } from '../support/http.mjs';
import { runWarden, startTinyLocal, tempDir } from '../support/warden.mjs';

let local;
before(async () => {
  ({ warden: local } = await startTinyLocal({ seed: 9, provider: { max_model_len: 64, max_num_batched_tokens: 16 } }));
});
after(async () => {
  await local?.stop();
});

test('a prompt over max_model_len is 400 context_length_exceeded with both numbers, every time', async () => {
  const long = 'word '.repeat(120);
  for (let i = 0; i < 6; i++) {  // more than the breaker's failure threshold: it stays closed
    const res = await postChat(local.url, { model: 'tiny', messages: [{ role: 'user', content: long }], max_tokens: 2 });
    assert.equal(res.status, 400, res.text);
    assert.equal(res.json.error.code, 'context_length_exceeded');
    assert.match(res.json.error.message, /max_model_len 64/);
    assert.match(res.json.error.message, /prompt of \d+ tokens/);
  }
});

test('a prompt within max_model_len (and over max_num_batched_tokens) is served', async () => {
  const res = await postChat(local.url, { model: 'tiny', messages: [{ role: 'user', content: 'word '.repeat(30) }], max_tokens: 3 });
  assert.equal(res.status, 200, res.text);
  assert.ok(res.json.usage.prompt_tokens > 16, JSON.stringify(res.json.usage));  // more than one step's budget
});

test('warden check refuses max_model_len and max_num_batched_tokens on a remote provider', async () => {
  const dir = tempDir('warden-ctx-check-');
  const file = path.join(dir, 'w.yaml');
  fs.writeFileSync(file, [
    'providers:',
    '  cloud:',
    '    type: openai',
    '    base_url: https://api.deepseek.com',
    '    api_key: x',
    '    max_model_len: 100',
    '    max_num_batched_tokens: 8',
    'models:',
    '  m: {targets: [{provider: cloud, model: deepseek-chat}]}',
    '',
  ].join('\n'));
  const res = await runWarden(['check', file]);
  assert.notEqual(res.code, 0);
  assert.match(res.stdout + res.stderr, /max_model_len: only used by a local provider/);
  assert.match(res.stdout + res.stderr, /max_num_batched_tokens: only used by a local provider/);
});
