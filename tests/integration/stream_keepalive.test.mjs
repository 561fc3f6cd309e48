// DeepSeek `: keep-alive` SSE comments are forwarded to the client as comments, but they
// are not progress: the idle timeout between payloads still fires while they flow.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { chunk, reply, startFakeUpstream } from '../support/fake_upstream.mjs';
import { assertStreamError, openStream, request } from '../support/http.mjs';
import { makeConfig, PROVIDER_KEY, startWarden } from '../support/warden.mjs';

let fake;
let warden;
before(async () => {
  fake = await startFakeUpstream();
  const cfg = makeConfig({ upstream: fake, timeouts: { connect_ms: 2000, first_byte_ms: 10000, idle_ms: 10000, total_ms: 30000 } });
  cfg.providers.up_idle = { type: 'openai', base_url: fake.url, api_key: PROVIDER_KEY,
    timeouts: { connect_ms: 2000, first_byte_ms: 10000, idle_ms: 400, total_ms: 30000 } };
  cfg.models.idle = { targets: [{ provider: 'up_idle', model: 'deepseek-v4-flash' }] };
  warden = await startWarden(cfg);
});
after(async () => {
  await warden?.stop();
  await fake?.close();
});

const url = () => `${warden.url}/v1/chat/completions`;
const ask = (model) => ({ model, stream: true, messages: [{ role: 'user', content: 'x' }] });

test('keep-alive comments reach the client as comments, in place', async () => {
  fake.reset();
  fake.setDefault(reply.stream([
    ': keep-alive', ': keep-alive', chunk.role(), chunk.content('A'), ': keep-alive', chunk.content('B'), chunk.finish('stop'), '[DONE]',
  ], { delayMs: 10 }));
  const h = openStream(url(), ask('fast'));
  const end = await h.done;
  assert.equal(end.complete, true);
  const seq = h.events().map((e) => {
    if (e.comment !== undefined) return e.comment === 'keep-alive' ? 'K' : `?${e.comment}`;
    if (e.data === '[DONE]') return 'D';
    return e.json?.choices?.[0]?.delta?.content || '-';
  }).join('');
  // K keep-alive, - empty delta (role / finish), A B content, D [DONE].
  assert.equal(seq, 'KK-AKB-D');
  const body = h.text();
  assert.ok(body.indexOf(': keep-alive') < body.indexOf('"A"'));
});

test('idle timeout fires although keep-alives keep coming', async () => {
  fake.reset();
  const keepalives = Array.from({ length: 200 }, () => [': keep-alive', { sleep: 100 }]).flat();
  fake.setDefault(reply.stream([chunk.role(), chunk.content('before-idle'), ...keepalives, chunk.content('never'), '[DONE]']));
  const h = openStream(url(), ask('idle'), { timeoutMs: 8000 });
  const end = await h.done;
  assert.notEqual(end.error, 'stream timed out', 'warden ended the stream itself');
  assert.ok(h.text().includes('before-idle'));
  assert.ok(h.text().includes(': keep-alive'), 'keep-alives were forwarded before the timeout');
  assert.ok(!h.text().includes('never'));
  assertStreamError(h, { code: 'upstream_timeout' });
  // Warden cancelled the upstream call.
  await fake.waitFor(() => fake.chatRequests()[0]?.clientClosed, 5000, 'upstream socket closed');
});

test('the gateway is still healthy afterwards', async () => {
  const res = await request(`${warden.url}/healthz`);
  assert.equal(res.status, 200);
});
