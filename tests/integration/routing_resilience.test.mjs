// Routing resilience against scripted upstream faults: retries (only what can succeed,
// retry-after honoured), fallback across providers, circuit breaker transitions (visible
// on the admin API), no retry after bytes reached the client, first-byte and idle
// timeouts (keep-alive comments are not progress), per-target concurrency cap.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { chunk, reply, startFakeUpstream } from '../support/fake_upstream.mjs';
import { fault } from '../support/fault_upstream.mjs';
import { auth, openStream, postChat, request, sleep } from '../support/http.mjs';
import { CALLER_KEY, PROVIDER_KEY, sha256Hex, startWarden } from '../support/warden.mjs';

const ADMIN_TOKEN = 'admin-token-routing-test-0b7c';
let A;
let B;
let warden;
let adminUrl;

const byModel = (fake, model) => fake.requests.filter((r) => r.json?.model === model);
const ask = (model, extra = {}) => ({ model, messages: [{ role: 'user', content: 'hello' }], ...extra });

before(async () => {
  A = await startFakeUpstream();
  B = await startFakeUpstream();
  const timeouts = { connect_ms: 1000, first_byte_ms: 400, idle_ms: 400, total_ms: 20000 };
  const viaA = (model, extra = {}) => ({ targets: [{ provider: 'a', model }], fallback: ['backup'], ...extra });
  const cfg = {
    server: { admin_listen: '127.0.0.1:0', admin_token: ADMIN_TOKEN },
    providers: {
      a: { type: 'openai', base_url: A.url, api_key: PROVIDER_KEY, timeouts },
      b: { type: 'openai', base_url: B.url, api_key: PROVIDER_KEY, timeouts },
    },
    models: {
      backup: { targets: [{ provider: 'b', model: 'model-b' }] },
      r429: { targets: [{ provider: 'a', model: 'm-429' }] },
      solo400: { targets: [{ provider: 'a', model: 'm-400' }] },
      main402: viaA('m-402'),
      brk: viaA('m-brk'),
      reset: viaA('m-reset'),
      hang: viaA('m-hang'),
      ka: viaA('m-ka'),
      cap: { targets: [{ provider: 'a', model: 'm-cap', max_concurrency: 1 }, { provider: 'b', model: 'm-cap-b', weight: 0 }] },
      split: { targets: [{ provider: 'a', model: 'm-s1', weight: 50 }, { provider: 'b', model: 'm-s2', weight: 50 }] },
      cheap: { targets: [{ provider: 'b', model: 'm-cheap' }] },
    },
    routing: {
      retries: { max_attempts: 3, base_ms: 20, max_ms: 100, retry_after_max_ms: 3000 },
      circuit_breaker: { failures: 3, window_s: 30, open_s: 2, half_open_requests: 1 },
      rules: [
        { when: { workload: 'batch' }, use: 'cheap' },
        { when: { model: 'split', keywords: ['summarize'], max_prompt_tokens: 50 }, use: 'cheap' },
      ],
    },
    teams: { t1: {} },  // a key's team must be defined
    keys: [{ id: 'k1', team: 't1', sha256: sha256Hex(CALLER_KEY) }],
  };
  warden = await startWarden(cfg);
  adminUrl = warden.adminUrl;
});
after(async () => {
  await warden?.stop();
  await A?.close();
  await B?.close();
});

async function breaker(target) {
  if (!adminUrl) return undefined;
  const res = await request(`${adminUrl}/admin/breakers`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  if (res.status !== 200) return undefined;
  return res.json.targets.find((t) => t.target === target)?.breaker;
}

test('N× 429 with retry-after, then 200: retried on the same target, waits honoured', async () => {
  A.forModel('m-429', fault.times(2, reply.error(429, 'Rate Limit Reached', { type: 'rate_limit_error', headers: { 'retry-after': '1' } }),
    reply.chat({ content: 'ok after 429' })));
  const t0 = Date.now();
  const res = await postChat(warden.url, ask('r429'), { timeoutMs: 20000 });
  const elapsed = Date.now() - t0;
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json.choices[0].message.content, 'ok after 429');
  assert.equal(res.headers['x-warden-attempts'], '3');
  assert.equal(res.headers['x-warden-target'], 'a/m-429');
  const seen = byModel(A, 'm-429');
  assert.equal(seen.length, 3);
  // two retry-after: 1 waits between the three attempts
  assert.ok(seen[1].receivedAt - seen[0].receivedAt >= 950, `first wait ${seen[1].receivedAt - seen[0].receivedAt} ms`);
  assert.ok(seen[2].receivedAt - seen[1].receivedAt >= 950, `second wait ${seen[2].receivedAt - seen[1].receivedAt} ms`);
  assert.ok(elapsed >= 1900, `elapsed ${elapsed} ms`);
});

test('400 is never retried; 402 is not retried on the same target but falls back', async () => {
  A.forModel('m-400', reply.error(400, 'Invalid request: bad', { type: 'invalid_request_error' }));
  const res = await postChat(warden.url, ask('solo400'));
  assert.equal(res.status, 400);
  assert.equal(res.headers['x-warden-attempts'], '1');
  assert.equal(byModel(A, 'm-400').length, 1);

  A.forModel('m-402', reply.error(402, 'Insufficient Balance', { type: 'unknown_error' }));
  const fb = await postChat(warden.url, ask('main402'));
  assert.equal(fb.status, 200, fb.text);
  assert.equal(fb.headers['x-warden-target'], 'b/model-b');
  assert.equal(fb.headers['x-warden-attempts'], '2');
  assert.equal(byModel(A, 'm-402').length, 1);
});

test('503s until the breaker opens; open → next target at once; half-open probe closes it', async () => {
  let healthy = false;
  A.forModel('m-brk', async (ctx) => (healthy ? reply.chat({ content: 'A is back' }) : reply.error(503, 'Server Overloaded', { type: 'server_error' }))(ctx));

  const first = await postChat(warden.url, ask('brk'));
  assert.equal(first.status, 200, first.text);
  assert.equal(first.headers['x-warden-target'], 'b/model-b');
  assert.equal(first.headers['x-warden-attempts'], '4');  // 3 on A (503, retried), then the fallback
  assert.equal(byModel(A, 'm-brk').length, 3);
  const opened = await breaker('a/m-brk');
  if (opened) assert.equal(opened.state, 'open');

  const second = await postChat(warden.url, ask('brk'));
  assert.equal(second.status, 200);
  assert.equal(second.headers['x-warden-target'], 'b/model-b');
  assert.equal(second.headers['x-warden-attempts'], '1');  // A skipped while open
  assert.equal(byModel(A, 'm-brk').length, 3);

  healthy = true;
  await sleep(2100);  // open_s: 2
  const third = await postChat(warden.url, ask('brk'));
  assert.equal(third.status, 200);
  assert.equal(third.headers['x-warden-target'], 'a/m-brk');
  assert.equal(third.json.choices[0].message.content, 'A is back');
  assert.equal(byModel(A, 'm-brk').length, 4);
  const closed = await breaker('a/m-brk');
  if (closed) {
    assert.equal(closed.state, 'closed');
    assert.equal(closed.opens, 1);
  }
});

test('admin API exposes breaker state', { skip: false }, async () => {
  assert.ok(adminUrl, `admin listener address in logs:\n${warden.logs()}`);
  const res = await request(`${adminUrl}/admin/breakers`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  assert.equal(res.status, 200, res.text);
  const t = res.json.targets.find((x) => x.target === 'a/m-cap');
  assert.ok(t, res.text);
  assert.equal(t.max_concurrency, 1);
  assert.equal(t.breaker.state, 'closed');
});

test('reset mid-stream: the stream ends with an error event and nothing is retried', async () => {
  A.forModel('m-reset', reply.stream([chunk.role('m-reset'), chunk.content('partial ', 'm-reset'), { sleep: 50 }, { reset: true }]));
  const h = openStream(`${warden.url}/v1/chat/completions`, ask('reset', { stream: true }));
  const end = await h.done;
  assert.equal(h.status, 200);
  assert.ok(h.text().includes('partial '), h.text());
  const errs = h.events().filter((e) => e.json?.error);
  assert.equal(errs.length, 1, `one in-band error event:\n${h.text()}`);
  assert.ok(end.complete || end.error, 'stream ended');
  assert.equal(h.headers['x-warden-attempts'], '1');
  assert.equal(byModel(A, 'm-reset').length, 1, 'no retry after bytes were sent');
  assert.equal(byModel(B, 'model-b').filter((r) => r.json?.stream).length, 0, 'no fallback after bytes were sent');
});

test('hang before the first byte: first-byte timeout, retried, then the fallback answers', async () => {
  A.forModel('m-hang', reply.hang());
  const t0 = Date.now();
  const res = await postChat(warden.url, ask('hang'), { timeoutMs: 20000 });
  const elapsed = Date.now() - t0;
  assert.equal(res.status, 200, res.text);
  assert.equal(res.headers['x-warden-target'], 'b/model-b');
  assert.equal(res.headers['x-warden-attempts'], '4');
  assert.equal(byModel(A, 'm-hang').length, 3);
  assert.ok(elapsed >= 3 * 380, `three first-byte timeouts of 400 ms took ${elapsed} ms`);
  await A.waitFor(() => byModel(A, 'm-hang').every((r) => r.clientClosed || r.closedAt), 5000, 'hung requests closed by warden');
});

test('keep-alive comments forever: the first-payload timeout still fires (keep-alives are not progress)', async () => {
  A.forModel('m-ka', fault.keepAliveForever(50));
  const t0 = Date.now();
  const res = await postChat(warden.url, ask('ka'), { timeoutMs: 20000 });
  const elapsed = Date.now() - t0;
  assert.equal(res.status, 200, res.text);
  assert.equal(res.headers['x-warden-target'], 'b/model-b');
  assert.equal(byModel(A, 'm-ka').length, 3);
  assert.ok(elapsed < 15000, `gave up on keep-alives in ${elapsed} ms`);
});

test('per-target concurrency cap: the second concurrent request goes to the next target', async () => {
  A.forModel('m-cap', async (ctx) => { await sleep(300); return reply.chat({ content: 'from A' })(ctx); });  // under first_byte_ms (400)
  const [r1, r2] = await Promise.all([postChat(warden.url, ask('cap')), (async () => { await A.waitFor(() => byModel(A, 'm-cap').length >= 1, 5000, 'first cap request upstream'); return postChat(warden.url, ask('cap')); })()]);
  assert.equal(r1.status, 200);
  assert.equal(r2.status, 200);
  assert.deepEqual([r1.headers['x-warden-target'], r2.headers['x-warden-target']], ['a/m-cap', 'b/m-cap-b']);
});

test('weighted split is sticky per caller and uses both targets', async () => {
  const seen = new Set();
  for (let i = 0; i < 12; i++) {
    const user = `user-${i}`;
    const r1 = await postChat(warden.url, ask('split', { user }));
    const r2 = await postChat(warden.url, ask('split', { user }));
    assert.equal(r1.status, 200, r1.text);
    assert.equal(r1.headers['x-warden-target'], r2.headers['x-warden-target'], `${user} stays on one target`);
    seen.add(r1.headers['x-warden-target']);
  }
  assert.deepEqual([...seen].sort(), ['a/m-s1', 'b/m-s2']);
});

test('rules: workload header and request complexity rewrite the alias', async () => {
  const batch = await postChat(warden.url, ask('split'), { headers: { ...auth(), 'x-warden-workload': 'batch' } });
  assert.equal(batch.headers['x-warden-target'], 'b/m-cheap');
  const simple = await postChat(warden.url, { model: 'split', messages: [{ role: 'user', content: 'Summarize this: hi' }] });
  assert.equal(simple.headers['x-warden-target'], 'b/m-cheap');
  const long = await postChat(warden.url, { model: 'split', user: 'user-0', messages: [{ role: 'user', content: `Summarize this: ${'x'.repeat(400)}` }] });
  assert.notEqual(long.headers['x-warden-target'], 'b/m-cheap');
});

test('confidential data never leaves for a non-local target', async () => {
  const before = A.requests.length + B.requests.length;
  const res = await postChat(warden.url, ask('backup'), { headers: { ...auth(), 'x-warden-data-class': 'confidential' } });
  assert.equal(res.status, 503, res.text);
  assert.equal(res.json.error.code, 'no_eligible_target');
  assert.equal(A.requests.length + B.requests.length, before);
});
