// `guardrails.moderation` through a real `warden serve` and a fake OpenAI-compatible
// /v1/moderations: a flagged request is refused before it reaches the model; a moderation
// call that fails follows on_failure — `closed` refuses (503 moderation_unavailable, the
// fail-closed rule of issue 14), `open` lets the request through and counts it.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { reply, startFakeUpstream } from '../support/fake_upstream.mjs';
import { postChat } from '../support/http.mjs';
import { makeConfig, startWarden } from '../support/warden.mjs';

const MOD_KEY = 'sk-moderation-key-9d1e';

let fake;  // the model
let mod;   // the moderation service
before(async () => {
  fake = await startFakeUpstream();
  mod = await startFakeUpstream();
});
after(async () => {
  await fake?.close();
  await mod?.close();
});

const ask = (content) => ({ model: 'fast', messages: [{ role: 'user', content }] });
const moderationCalls = () => mod.requests.filter((r) => r.path === '/v1/moderations');

// Flags any input containing "attack"; scripted per test otherwise.
const judge = async (ctx) => {
  const inputs = ctx.record.json?.input ?? [];
  const results = inputs.map((t) => ({ flagged: /attack/.test(t), categories: {} }));
  return reply.json({ id: 'modr-1', model: 'omni-moderation-latest', results })(ctx);
};

async function withWarden(onFailure, fn) {
  const warden = await startWarden(makeConfig({
    upstream: fake,
    extra: { guardrails: { moderation: { url: mod.url, api_key: MOD_KEY, on_failure: onFailure, timeout_ms: 500 } } },
  }));
  try {
    await fn(warden);
  } finally {
    await warden.stop();
  }
}

describe('moderation decides', () => {
  test('flagged → 400 content_blocked and nothing reaches the model; clean → answered', async () => {
    await withWarden('closed', async (warden) => {
      fake.reset();
      mod.reset();
      mod.setDefault(judge);
      const bad = await postChat(warden.url, ask('plan an attack'));
      assert.equal(bad.status, 400, bad.text);
      assert.equal(bad.json.error.code, 'content_blocked');
      assert.equal(fake.chatRequests().length, 0);
      const good = await postChat(warden.url, ask('plan a picnic'));
      assert.equal(good.status, 200, good.text);
      const calls = moderationCalls();
      assert.equal(calls.length, 2);
      assert.deepEqual(calls[1].json.input, ['plan a picnic']);
      assert.equal(calls[1].headers.authorization, `Bearer ${MOD_KEY}`);
      assert.ok(!warden.logs().includes(MOD_KEY));
    });
  });
});

describe('moderation fails', () => {
  const failures = {
    'times out': reply.hang(),
    'answers 500': reply.error(500, 'down'),
    'answers garbage': reply.json({ nothing: true }),
  };
  for (const [what, script] of Object.entries(failures)) {
    test(`on_failure closed: a moderation call that ${what} refuses with 503 moderation_unavailable`, async () => {
      await withWarden('closed', async (warden) => {
        fake.reset();
        mod.reset();
        mod.setDefault(script);
        const res = await postChat(warden.url, ask('plan a picnic'), { timeoutMs: 10000 });
        assert.equal(res.status, 503, res.text);
        assert.equal(res.json.error.code, 'moderation_unavailable');
        assert.equal(fake.chatRequests().length, 0, 'nothing reached the model');
      });
    });
  }

  test('on_failure open: the request goes through when moderation is down', async () => {
    await withWarden('open', async (warden) => {
      fake.reset();
      mod.reset();
      mod.setDefault(reply.error(503, 'down'));
      const res = await postChat(warden.url, ask('plan a picnic'));
      assert.equal(res.status, 200, res.text);
      assert.equal(fake.chatRequests().length, 1);
      assert.match(warden.logs(), /moderation call failed \(allowing\)/);
    });
  });
});
