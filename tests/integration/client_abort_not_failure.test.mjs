// A caller hanging up is not an upstream failure (issue 15 defect 2): callers that leave
// before the first byte must not open the target's circuit breaker for everyone, must not
// be retried or moved to a fallback, and must not count in warden_upstream_errors_total.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';
import { reply, startFakeUpstream } from '../support/fake_upstream.mjs';
import { auth, eventually, postChat, request } from '../support/http.mjs';
import { makeConfig, startWarden } from '../support/warden.mjs';

const ADMIN_TOKEN = 'admin-token-abort-breaker-9c1d';
let fake;
let warden;
before(async () => {
  fake = await startFakeUpstream();
  warden = await startWarden(makeConfig({
    upstream: fake,
    server: { admin_listen: '127.0.0.1:0', admin_token: ADMIN_TOKEN },
    timeouts: { connect_ms: 2000, first_byte_ms: 60000, idle_ms: 60000, total_ms: 120000 },
    models: {
      fast: { targets: [{ provider: 'up', model: 'deepseek-v4-flash' }], fallback: ['pro'] },
      pro: { targets: [{ provider: 'up', model: 'deepseek-v4-pro' }] },
    },
    // Five failures in a minute open the breaker for 30 s; three attempts per target.
    routing: { retries: { max_attempts: 3, base_ms: 1, max_ms: 5 }, circuit_breaker: { failures: 5, window_s: 60, open_s: 30 } },
  }));
});
after(async () => {
  await warden?.stop();
  await fake?.close();
});

const metricsText = async () =>
  (await request(`${warden.adminUrl}/metrics`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).text;

const count499 = (text) => text.split('\n')
  .filter((l) => l.startsWith('warden_requests_total{') && l.includes('status="499"'))
  .reduce((n, l) => n + Number(l.split(' ').pop()), 0);

test('five callers that hang up before the first byte leave the breaker closed and are not upstream errors', async () => {
  fake.reset();
  fake.setDefault(reply.hang());
  for (let i = 1; i <= 5; i++) {
    const body = JSON.stringify({ model: 'fast', messages: [{ role: 'user', content: `abort ${i}` }] });
    const req = http.request(`${warden.url}/v1/chat/completions`, {
      method: 'POST', agent: false, headers: { ...auth(), 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    });
    req.on('error', () => {});
    req.end(body);
    const up = await fake.waitForRequest(i);
    req.destroy();
    await fake.waitFor(() => up.clientClosed, 5000, `upstream request ${i} cancelled`);
  }
  // Warden finished all five (each recorded as a 499) before we look.
  await eventually(async () => count499(await metricsText()) === 5, { what: 'five 499s recorded' });

  // Exactly one upstream request per caller: no retry, no fallback to `pro`.
  assert.equal(fake.chatRequests().length, 5);
  assert.ok(fake.chatRequests().every((r) => r.json.model === 'deepseek-v4-flash'));

  const text = await metricsText();
  assert.doesNotMatch(text, /warden_upstream_errors_total\{[^}]*code="client_closed_request"/);
  assert.match(text, /warden_breaker_state\{target="up\/deepseek-v4-flash"\} 0/);

  // The upstream is healthy: the next caller is served by the first target.
  fake.setDefault(reply.chat());
  const res = await postChat(warden.url, { model: 'fast', messages: [{ role: 'user', content: 'now' }] });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.headers['x-warden-target'], 'up/deepseek-v4-flash');
  assert.equal(res.headers['x-warden-attempts'], '1');
});
