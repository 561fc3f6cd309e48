// Server limits and malformed requests: 413 over max_body_bytes, 400 on non-JSON,
// slow headers and idle keep-alive connections are closed by the server.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { startFakeUpstream } from '../support/fake_upstream.mjs';
import { assertOpenAIError, auth, postChat, request } from '../support/http.mjs';
import { CALLER_KEY, makeConfig, startWarden } from '../support/warden.mjs';

let fake;
let warden;
before(async () => {
  fake = await startFakeUpstream();
  warden = await startWarden(makeConfig({
    upstream: fake,
    server: { limits: { max_body_bytes: 4096, header_timeout_ms: 300, idle_timeout_ms: 300, max_connections: 100 } },
  }));
});
after(async () => {
  await warden?.stop();
  await fake?.close();
});

test('body over max_body_bytes → 413 OpenAI error, upstream not called', async () => {
  fake.reset();
  const res = await postChat(warden.url, { model: 'fast', messages: [{ role: 'user', content: 'y'.repeat(8000) }] });
  assertOpenAIError(res, { status: 413 });
  assert.equal(fake.requests.length, 0);
});

test('body just under the limit is fine', async () => {
  fake.reset();
  const res = await postChat(warden.url, { model: 'fast', messages: [{ role: 'user', content: 'y'.repeat(3500) }] });
  assert.equal(res.status, 200, res.text);
});

test('non-JSON body → 400 invalid_request_error', async () => {
  fake.reset();
  const res = await postChat(warden.url, '{"model": "fast", "messages": [');
  const e = assertOpenAIError(res, { status: 400 });
  assert.equal(e.type, 'invalid_request_error');
  assert.equal(fake.requests.length, 0);
});

test('JSON that is not a chat request (no messages) → 400', async () => {
  const res = await postChat(warden.url, { model: 'fast' });
  assertOpenAIError(res, { status: 400 });
});

test('unknown path → 404', async () => {
  const res = await request(`${warden.url}/v1/not-a-route`, { headers: auth() });
  assert.equal(res.status, 404);
});

// Connect, send `data`, and resolve with how the server ended the connection.
function holdSocket(port, data, maxMs = 5000) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let got = '';
    const t = setTimeout(() => { s.destroy(); resolve({ closedByServer: false, got }); }, maxMs);
    s.on('connect', () => s.write(data));
    s.on('data', (d) => { got += d; });
    s.on('close', () => { clearTimeout(t); resolve({ closedByServer: true, got }); });
    s.on('error', () => {});
  });
}

test('slow headers: a client that never finishes its headers is disconnected', async () => {
  const r = await holdSocket(warden.port, 'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-Slow: ');
  assert.equal(r.closedByServer, true, 'server closed a connection stuck in headers (header_timeout_ms 300)');
});

test('idle keep-alive connection is closed after idle_timeout_ms', async () => {
  const r = await holdSocket(warden.port, `GET /healthz HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${CALLER_KEY}\r\n\r\n`);
  assert.match(r.got, /^HTTP\/1\.1 200/);
  assert.equal(r.closedByServer, true, 'server closed the idle connection (idle_timeout_ms 300)');
});

test('still serving', async () => {
  assert.equal((await request(`${warden.url}/healthz`)).status, 200);
});
