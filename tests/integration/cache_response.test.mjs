// Response cache through the real binary and a fake upstream: the second identical
// request never reaches the upstream, stream callers get the cached answer replayed as
// SSE, sampling requests bypass the cache, teams do not share entries, and hits cost 0.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { reply, startFakeUpstream } from '../support/fake_upstream.mjs';
import { auth, openStream, postChat, request } from '../support/http.mjs';
import { CALLER_KEY, makeConfig, startWarden } from '../support/warden.mjs';

const ADMIN_TOKEN = 'admin-token-cache-test-91c2';
const OTHER_TEAM_KEY = 'sk-warden-test-other-team-4b7e';
let fake;
let warden;
let adminUrl;

before(async () => {
  fake = await startFakeUpstream();
  const cfg = makeConfig({
    upstream: fake,
    server: { admin_listen: '127.0.0.1:0', admin_token: ADMIN_TOKEN },
    keys: [
      { id: 'k1', team: 't1', key: CALLER_KEY },
      { id: 'k3', team: 't2', key: OTHER_TEAM_KEY },
    ],
    extra: {
      cache: { enabled: true, ttl_s: 60, max_entries: 100 },
      pricing: { 'deepseek-v4-flash': { input_cache_hit: 1, input_cache_miss: 2, output: 4 } },
    },
  });
  warden = await startWarden(cfg);
  adminUrl = warden.adminUrl;
});
after(async () => {
  await warden?.stop();
  await fake?.close();
});

const chat = (content, extra = {}) => ({ model: 'fast', temperature: 0, messages: [{ role: 'user', content }], ...extra });

test('second identical request is answered from the cache, not the upstream', async () => {
  fake.reset();
  fake.setDefault(reply.chat({ content: 'The answer is 42.', reasoning: 'think hard' }));
  const first = await postChat(warden.url, chat('meaning of life?'));
  assert.equal(first.status, 200, first.text);
  assert.equal(first.headers['x-warden-cache'], 'miss');
  assert.equal(fake.chatRequests().length, 1);

  // Same request, different JSON formatting and key order: still a hit.
  const second = await request(`${warden.url}/v1/chat/completions`, {
    method: 'POST', headers: { ...auth(), 'content-type': 'application/json' },
    body: '{ "messages": [ { "content": "meaning of life?", "role": "user" } ], "temperature": 0.0, "model": "fast" }',
  });
  assert.equal(second.status, 200, second.text);
  assert.equal(second.headers['x-warden-cache'], 'hit');
  assert.equal(fake.chatRequests().length, 1, 'the upstream saw only the first request');
  const msg = second.json.choices[0].message;
  assert.equal(msg.content, 'The answer is 42.');
  assert.equal(msg.reasoning_content, 'think hard');
  assert.equal(second.json.choices[0].finish_reason, 'stop');
  assert.equal(second.json.usage.prompt_tokens, 0, 'a hit reports zero usage');
  assert.equal(second.json.usage.completion_tokens, 0);
  assert.notEqual(second.json.id, first.json.id, 'a replay gets its own completion id');
});

test('a stream caller gets the cached answer replayed as SSE', async () => {
  fake.reset();
  fake.setDefault(reply.chat({ content: ['stream', 'ed ', 'once'] }));
  const h1 = openStream(`${warden.url}/v1/chat/completions`, chat('stream me', { stream: true }));
  await h1.ready;
  assert.equal(h1.headers['x-warden-cache'], 'miss');
  await h1.done;
  assert.equal(fake.chatRequests().length, 1);

  const h2 = openStream(`${warden.url}/v1/chat/completions`, chat('stream me', { stream: true, stream_options: { include_usage: true } }));
  await h2.ready;
  assert.equal(h2.status, 200);
  assert.equal(h2.headers['x-warden-cache'], 'hit');
  assert.match(h2.headers['content-type'], /text\/event-stream/);
  const end = await h2.done;
  assert.equal(end.complete, true);
  const events = h2.events().filter((e) => e.data !== undefined);
  assert.equal(events.at(-1).data, '[DONE]');
  const chunks = events.slice(0, -1).map((e) => e.json);
  assert.ok(chunks.every((c) => c.object === 'chat.completion.chunk'));
  assert.equal(chunks.map((c) => c.choices?.[0]?.delta?.content ?? '').join(''), 'streamed once');
  assert.equal(chunks.find((c) => c.choices?.[0]?.finish_reason)?.choices[0].finish_reason, 'stop');
  assert.equal(chunks.at(-1).usage?.completion_tokens, 0, 'usage chunk present (include_usage) and zero');
  assert.equal(fake.chatRequests().length, 1, 'the upstream saw only the first request');

  // The entry is shared with non-stream callers.
  const plain = await postChat(warden.url, chat('stream me'));
  assert.equal(plain.headers['x-warden-cache'], 'hit');
  assert.equal(plain.json.choices[0].message.content, 'streamed once');
  assert.equal(fake.chatRequests().length, 1);
});

test('temperature > 0 (or unset) bypasses the cache', async () => {
  fake.reset();
  for (let i = 0; i < 2; i++) {
    const res = await postChat(warden.url, chat('sample me', { temperature: 0.8 }));
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers['x-warden-cache'], 'bypass');
  }
  for (let i = 0; i < 2; i++) {
    const res = await postChat(warden.url, { model: 'fast', messages: [{ role: 'user', content: 'sample me' }] });
    assert.equal(res.headers['x-warden-cache'], 'bypass');
  }
  assert.equal(fake.chatRequests().length, 4);
});

test('another team does not get the first team\'s entry; upstream errors are not cached', async () => {
  fake.reset();
  const a = await postChat(warden.url, chat('team scoped'));
  assert.equal(a.headers['x-warden-cache'], 'miss');
  const b = await postChat(warden.url, chat('team scoped'), { headers: auth(OTHER_TEAM_KEY) });
  assert.equal(b.status, 200, b.text);
  assert.equal(b.headers['x-warden-cache'], 'miss');
  assert.equal(fake.chatRequests().length, 2);

  fake.setDefault(reply.error(500, 'boom', { type: 'server_error' }));
  const e1 = await postChat(warden.url, chat('failing'));
  assert.equal(e1.status >= 500, true);
  fake.setDefault(reply.chat({ content: 'recovered' }));
  const e2 = await postChat(warden.url, chat('failing'));
  assert.equal(e2.status, 200);
  assert.equal(e2.headers['x-warden-cache'], 'miss');
  assert.equal(e2.json.choices[0].message.content, 'recovered');
});

test('hits cost nothing: /metrics cost does not grow on a hit; the hit is counted as a decision', async (t) => {
  assert.ok(adminUrl, 'admin listener address');
  const metrics = async () => (await request(`${adminUrl}/metrics`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).text;
  const costOf = (text) => [...text.matchAll(/^warden_cost_usd_total\{[^}]*\} (\S+)$/gm)].reduce((s, m) => s + Number(m[1]), 0);
  fake.reset();
  await postChat(warden.url, chat('priced'));
  const before = costOf(await metrics());
  assert.ok(before > 0, 'the miss was priced');
  const hit = await postChat(warden.url, chat('priced'));
  assert.equal(hit.headers['x-warden-cache'], 'hit');
  const text = await metrics();
  assert.equal(costOf(text), before);
  assert.match(text, /warden_policy_decisions_total\{decision="cache\.hit"\} [1-9]/);
});
