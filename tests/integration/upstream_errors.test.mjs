// Upstream error statuses keep their status and message, in OpenAI shape; 429 keeps a
// retry-after; broken upstreams (refused connection, non-JSON error page) give a 502-ish
// OpenAI error, never a crash.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { reply, startFakeUpstream } from '../support/fake_upstream.mjs';
import { assertOpenAIError, assertStreamError, openStream, postChat, request } from '../support/http.mjs';
import { makeConfig, PROVIDER_KEY, startWarden } from '../support/warden.mjs';

let fake;
let warden;
before(async () => {
  fake = await startFakeUpstream();
  // A port that was free a moment ago: connections to it are refused.
  const probe = net.createServer();
  await new Promise((r) => probe.listen(0, '127.0.0.1', r));
  const deadPort = probe.address().port;
  await new Promise((r) => probe.close(r));
  // Default retries (fast backoff) so that "402 is never retried" means something; the
  // breaker never opens so every case reaches the upstream.
  const cfg = makeConfig({ upstream: fake, routing: {
    retries: { max_attempts: 3, base_ms: 1, max_ms: 5, retry_after_max_ms: 20 },
    circuit_breaker: { failures: 1000000 },
  } });
  cfg.providers.dead = { type: 'openai', base_url: `http://127.0.0.1:${deadPort}`, api_key: PROVIDER_KEY,
    timeouts: { connect_ms: 1000, first_byte_ms: 5000, idle_ms: 5000, total_ms: 10000 } };
  cfg.models.dead = { targets: [{ provider: 'dead', model: 'deepseek-v4-flash' }] };
  warden = await startWarden(cfg);
});
after(async () => {
  await warden?.stop();
  await fake?.close();
});

const ask = (stream = false) => ({ model: 'fast', stream, messages: [{ role: 'user', content: 'x' }] });

const cases = [
  [400, 'Invalid request: messages must not be empty', 'invalid_request_error'],
  [401, 'Authentication Fails, Your api key is invalid', 'authentication_error'],
  [402, 'Insufficient Balance', 'unknown_error'],
  [422, 'Invalid Parameters: temperature', 'invalid_request_error'],
  [429, 'Rate Limit Reached', 'rate_limit_error'],
  [500, 'Server Error', 'server_error'],
  [503, 'Server Overloaded', 'server_error'],
];

for (const [status, message, type] of cases) {
  test(`upstream ${status} keeps status and message (non-stream)`, async () => {
    fake.reset();
    fake.setDefault(reply.error(status, message, { type, headers: status === 429 ? { 'retry-after': '1' } : {} }));
    const res = await postChat(warden.url, ask());
    assertOpenAIError(res, { status, messageIncludes: message });
    if (status === 429) assert.ok(res.headers['retry-after'], 'retry-after kept on 429');
    assert.ok(fake.chatRequests().length >= 1);
  });
}

test('upstream 402 in a stream request is a plain HTTP 402 (nothing was streamed yet)', async () => {
  fake.reset();
  fake.setDefault(reply.error(402, 'Insufficient Balance', { type: 'unknown_error' }));
  const h = openStream(`${warden.url}/v1/chat/completions`, ask(true));
  await h.done;
  const r = assertStreamError(h, { status: 402 });
  assert.equal(r.inBand, false);
  assert.ok(r.error.message.includes('Insufficient Balance'));
});

test('402 is not retried', async () => {
  fake.reset();
  fake.setDefault(reply.error(402, 'Insufficient Balance', { type: 'unknown_error' }));
  await postChat(warden.url, ask());
  assert.equal(fake.chatRequests().length, 1);
});

test('upstream error page that is not JSON → 5xx OpenAI error', async () => {
  fake.reset();
  fake.setDefault(reply.json('<html><body>502 Bad Gateway</body></html>', { status: 502, headers: { 'content-type': 'text/html' } }));
  const res = await postChat(warden.url, ask());
  assert.ok(res.status >= 500 && res.status <= 504, `status ${res.status}`);
  assertOpenAIError(res);
  assert.ok(fake.chatRequests().length >= 1, 'the upstream was called');
});

test('non-JSON 200 body from the upstream → 502 OpenAI error', async () => {
  fake.reset();
  fake.setDefault(reply.json('this is not json', { status: 200, headers: { 'content-type': 'application/json' } }));
  const res = await postChat(warden.url, ask());
  assertOpenAIError(res, { status: 502 });
  assert.ok(fake.chatRequests().length >= 1, 'the upstream was called');
});

test('connection refused → 502 OpenAI error', async () => {
  const res = await postChat(warden.url, { model: 'dead', messages: [{ role: 'user', content: 'x' }] });
  assertOpenAIError(res, { status: 502 });
});

test('still healthy after all of that', async () => {
  assert.equal((await request(`${warden.url}/healthz`)).status, 200);
});
