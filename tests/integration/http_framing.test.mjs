// HTTP/1.1 framing of requests (issue 15 defect 4): a Transfer-Encoding other than exactly
// `chunked` is answered 400 and the connection closed (RFC 9112 §6.3: its body must never
// be read as another request), HTTP/1.1 without Host (or with two) is 400, and the header
// limit counts the whole head, not just the part Beast has not parsed yet.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startFakeUpstream } from '../support/fake_upstream.mjs';
import { auth } from '../support/http.mjs';
import { httpRequest, rawConnect, rawExchange, readAll, statuses } from '../support/raw.mjs';
import { makeConfig, startWarden } from '../support/warden.mjs';

let fake;
let warden;
before(async () => {
  fake = await startFakeUpstream();
  warden = await startWarden(makeConfig({ upstream: fake, server: { limits: { max_header_bytes: 65536 } } }));
});
after(async () => {
  await warden?.stop();
  await fake?.close();
});

const smuggled = 'GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n';

for (const te of ['gzip', 'chunked, gzip', 'identity', 'gzip, chunked', 'chunkedx']) {
  test(`Transfer-Encoding: ${te} → one 400, connection closed, body never a second request`, async () => {
    const before = fake.chatRequests().length;
    const head = `POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: ${auth().authorization}\r\n` +
      `content-type: application/json\r\ntransfer-encoding: ${te}\r\n\r\n`;
    const r = await rawExchange(warden.port, head + smuggled);
    assert.deepEqual(statuses(r.text), [400], r.text);
    assert.match(r.text, /"code":"bad_request"/);
    assert.match(r.text, /Transfer-Encoding/);
    assert.ok(r.closed, 'connection closed after the 400');
    assert.equal(fake.chatRequests().length, before, 'nothing went upstream');
  });
}

test('two Transfer-Encoding headers (even both chunked) → 400', async () => {
  const head = 'POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\ntransfer-encoding: chunked\r\n' +
    'transfer-encoding: chunked\r\n\r\n0\r\n\r\n';
  const r = await rawExchange(warden.port, head + smuggled);
  assert.deepEqual(statuses(r.text), [400], r.text);
  assert.ok(r.closed);
});

test('Transfer-Encoding: chunked is still served', async () => {
  const body = JSON.stringify({ model: 'fast', messages: [{ role: 'user', content: 'hi' }] });
  const chunked = `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`;
  const head = `POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: ${auth().authorization}\r\n` +
    'content-type: application/json\r\ntransfer-encoding: Chunked\r\nconnection: close\r\n\r\n';
  const r = await rawExchange(warden.port, head + chunked);
  assert.deepEqual(statuses(r.text), [200], r.text);
});

test('HTTP/1.1 without Host → 400 and close; two Host headers → 400; HTTP/1.0 without Host is fine', async () => {
  const none = await rawExchange(warden.port, `GET /healthz HTTP/1.1\r\n\r\n${smuggled}`);
  assert.deepEqual(statuses(none.text), [400], none.text);
  assert.match(none.text, /Host/);
  assert.ok(none.closed);
  const two = await rawExchange(warden.port, 'GET /healthz HTTP/1.1\r\nhost: a\r\nhost: b\r\nconnection: close\r\n\r\n');
  assert.deepEqual(statuses(two.text), [400], two.text);
  const old = await rawExchange(warden.port, 'GET /healthz HTTP/1.0\r\n\r\n');
  assert.deepEqual(statuses(old.text), [200], old.text);
});

test('the header limit counts the whole head: 80,000 tiny fields → 431', async () => {
  // 400 KB of 5-byte fields against a 64 KiB limit, written in 5 KB pieces (each one
  // written after the previous left this process), so no single read holds the limit.
  const s = await rawConnect(warden.port);
  s.on('error', () => {});
  const reading = readAll(s);
  s.write('GET /healthz HTTP/1.1\r\nhost: x\r\n');
  for (let i = 0; i < 80 && !s.destroyed && s.writable; i++) {
    await new Promise((resolve) => s.write('a:b\r\n'.repeat(1000), resolve));
  }
  if (s.writable) s.write('\r\n');
  const r = await reading;
  assert.deepEqual(statuses(r.text), [431], r.text.slice(0, 400));
  assert.match(r.text, /"code":"headers_too_large"/);
});

test('a head just under the limit is served; the same head one field over is 431', async () => {
  // Count the exact head: request line + host + fields + blank line.
  const start = 'GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n';
  const fill = (n) => 'a:b\r\n'.repeat(n);
  const n = Math.floor((65536 - start.length - 2 - 1) / 5);
  const under = await rawExchange(warden.port, `${start}${fill(n)}\r\n`);
  assert.deepEqual(statuses(under.text), [200], under.text.slice(0, 300));
  const over = await rawExchange(warden.port, `${start}${fill(n + 2)}\r\n`);
  assert.deepEqual(statuses(over.text), [431], over.text.slice(0, 300));
});

test('a normal keep-alive pair on one connection still works', async () => {
  const r = await rawExchange(warden.port, httpRequest('GET', '/healthz') + httpRequest('GET', '/readyz', { headers: { connection: 'close' } }));
  assert.deepEqual(statuses(r.text), [200, 200], r.text);
});
