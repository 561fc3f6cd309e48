// Callers that are gone before warden starts their request (issue 15 defect 1): each one's
// handler is cancelled at once, between the target's concurrency slot being taken and given
// back. Every hold (target slot, breaker probe, rate-limit concurrency, budget reservation)
// is an RAII guard, so after any number of them the next caller is served and every
// in-flight gauge reads 0.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startFakeUpstream } from '../support/fake_upstream.mjs';
import { auth, postChat, request } from '../support/http.mjs';
import { httpRequest, rawConnect, readAll, readResponse } from '../support/raw.mjs';
import { makeConfig, startWarden } from '../support/warden.mjs';

const ADMIN_TOKEN = 'admin-token-cancel-leak-1f2e';
let fake;
let warden;
let adminUrl;
before(async () => {
  fake = await startFakeUpstream();
  warden = await startWarden(makeConfig({
    upstream: fake,
    server: {
      admin_listen: '127.0.0.1:0', admin_token: ADMIN_TOKEN,
      limits: { max_connections: 1, header_timeout_ms: 60000, idle_timeout_ms: 60000 },
    },
    models: { fast: { targets: [{ provider: 'up', model: 'deepseek-v4-flash', max_concurrency: 1 }] } },
    // Half-open probes at once after one failure would show a leaked probe too; the breaker
    // must stay closed here anyway (a caller leaving is not a failure).
    routing: { retries: { max_attempts: 1 }, circuit_breaker: { failures: 1, open_s: 1, half_open_requests: 1 } },
    extra: { teams: { t1: { rate_limits: { concurrency: 1 }, budget: { tokens_per_day: 100000000 } } } },
  }));
  adminUrl = warden.adminUrl;
});
after(async () => {
  await warden?.stop();
  await fake?.close();
});

const chatBytes = (extra = {}) => httpRequest('POST', '/v1/chat/completions', {
  headers: { ...auth(), ...extra },
  body: { model: 'fast', messages: [{ role: 'user', content: 'x' }] },
});

async function metric(name, labels = '') {
  const res = await request(`${adminUrl}/metrics`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  assert.equal(res.status, 200);
  const line = res.text.split('\n').find((l) => l.startsWith(`${name}${labels}`));
  return line === undefined ? undefined : Number(line.split(' ').pop());
}

test('callers that send and hang up before their request starts leak nothing', async () => {
  // One idle keep-alive connection holds the only slot (it was served once: it is in).
  const idle = await rawConnect(warden.port);
  idle.on('error', () => {});
  idle.write(httpRequest('GET', '/healthz'));
  assert.equal((await readResponse(idle)).status, 200);

  // Callers that connect, send a whole request and close their side at once: by the time
  // warden reads the request, the client is already gone.
  const gone = [];
  for (let i = 0; i < 6; i++) {
    const s = await rawConnect(warden.port);
    s.on('error', () => {});
    s.end(chatBytes());
    gone.push(readAll(s, { timeoutMs: 30000 }));
  }
  idle.destroy();  // make room (warden may also have closed it to admit them)
  // Each one is handled and its connection closed by warden.
  const results = await Promise.all(gone);
  assert.ok(results.every((r) => r.closed), 'warden closed every abandoned connection');

  // The next caller is served: no target slot, rate-limit slot or reservation leaked.
  for (let i = 0; i < 3; i++) {
    const res = await postChat(warden.url, { model: 'fast', messages: [{ role: 'user', content: 'y' }] });
    assert.equal(res.status, 200, res.text);
  }
  assert.equal(await metric('warden_target_in_flight', '{target="up/deepseek-v4-flash"}'), 0);
  assert.equal(await metric('warden_breaker_state', '{target="up/deepseek-v4-flash"}'), 0, 'breaker closed');
  const breakers = await request(`${adminUrl}/admin/breakers`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  const t = breakers.json.targets.find((x) => x.target === 'up/deepseek-v4-flash');
  assert.equal(t.in_flight, 0);
  assert.equal(t.breaker.probes_in_flight, 0);
});
