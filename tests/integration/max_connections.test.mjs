// max_connections is not a denial of service (issue 15 defect 5): when every slot is held
// by idle keep-alive connections, a new caller is served at once (warden closes the
// longest-idle one), and /healthz and /readyz never queue behind callers, even when every
// slot is busy; a caller beyond the limit still waits for a slot rather than being refused.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { deferred, reply, startFakeUpstream } from '../support/fake_upstream.mjs';
import { postChat, request } from '../support/http.mjs';
import { httpRequest, rawConnect, readAll, readResponse } from '../support/raw.mjs';
import { makeConfig, startWarden } from '../support/warden.mjs';

let fake;
let warden;
before(async () => {
  fake = await startFakeUpstream();
  // Timeouts far beyond any test bound: nothing here may be rescued by an idle timeout.
  warden = await startWarden(makeConfig({
    upstream: fake,
    server: { limits: { max_connections: 2, header_timeout_ms: 600000, idle_timeout_ms: 600000 } },
  }));
});
after(async () => {
  await warden?.stop();
  await fake?.close();
});

// A keep-alive connection that was served once and now sits idle.
async function idleConnection() {
  const s = await rawConnect(warden.port);
  s.on('error', () => {});
  const closed = readAll(s, { timeoutMs: 600000 });
  s.write(httpRequest('GET', '/healthz'));
  assert.equal((await readResponse(s)).status, 200);
  return { s, closed };
}

test('every slot idle: a new caller is served and the longest-idle connection is the one closed', async () => {
  fake.reset();
  const oldest = await idleConnection();
  const newer = await idleConnection();

  const res = await postChat(warden.url, { model: 'fast', messages: [{ role: 'user', content: 'x' }] }, { timeoutMs: 20000 });
  assert.equal(res.status, 200, res.text);
  assert.ok((await oldest.closed).closed, 'the longest-idle connection was closed');

  // The newer idle connection was kept and still serves.
  newer.s.write(httpRequest('GET', '/readyz'));
  assert.equal((await readResponse(newer.s)).status, 200);
  newer.s.destroy();
});

test('every slot busy: health checks answer at once; a further caller waits for a slot, then is served', async () => {
  fake.reset();
  const gate = deferred();
  fake.setDefault(async (ctx) => { await gate.promise; return reply.chat()(ctx); });
  const busy = [
    postChat(warden.url, { model: 'fast', messages: [{ role: 'user', content: 'a' }] }, { timeoutMs: 30000 }),
    postChat(warden.url, { model: 'fast', messages: [{ role: 'user', content: 'b' }] }, { timeoutMs: 30000 }),
  ];
  await fake.waitForRequest(2);  // both slots now hold a request in progress

  for (const path of ['/healthz', '/readyz', '/healthz']) {
    const r = await request(`${warden.url}${path}`, { timeoutMs: 20000 });
    assert.equal(r.status, 200, `${path} while every slot is busy`);
  }

  // A third caller is not refused: it waits, and nothing reaches the upstream for it yet.
  const third = postChat(warden.url, { model: 'fast', messages: [{ role: 'user', content: 'c' }] }, { timeoutMs: 30000 });
  const r = await request(`${warden.url}/readyz`, { timeoutMs: 20000 });
  assert.equal(r.status, 200);
  assert.equal(fake.chatRequests().length, 2);

  gate.resolve();
  for (const res of await Promise.all([...busy, third])) assert.equal(res.status, 200, res.text);
  assert.equal(fake.chatRequests().length, 3);
});
