// Upstream timeouts: hang before the first byte (first_byte_ms), keep-alives only (not
// progress), total time (total_ms). Each gives an OpenAI-shaped upstream_timeout error
// and the upstream request is cancelled.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { chunk, reply, startFakeUpstream } from '../support/fake_upstream.mjs';
import { assertOpenAIError, assertStreamError, openStream, postChat, request } from '../support/http.mjs';
import { makeConfig, PROVIDER_KEY, startWarden } from '../support/warden.mjs';

let fake;
let warden;
before(async () => {
  fake = await startFakeUpstream();
  const cfg = makeConfig({ upstream: fake });
  const prov = (timeouts) => ({ type: 'openai', base_url: fake.url, api_key: PROVIDER_KEY, timeouts });
  cfg.providers = {
    up_fb: prov({ connect_ms: 2000, first_byte_ms: 400, idle_ms: 10000, total_ms: 30000 }),
    up_total: prov({ connect_ms: 2000, first_byte_ms: 10000, idle_ms: 10000, total_ms: 800 }),
  };
  cfg.models = {
    fb: { targets: [{ provider: 'up_fb', model: 'deepseek-v4-flash' }] },
    total: { targets: [{ provider: 'up_total', model: 'deepseek-v4-flash' }] },
  };
  warden = await startWarden(cfg);
});
after(async () => {
  await warden?.stop();
  await fake?.close();
});

const ask = (model, stream) => ({ model, stream, messages: [{ role: 'user', content: 'x' }] });

test('non-stream: upstream hangs before the first byte → 504 upstream_timeout', async () => {
  fake.reset();
  fake.setDefault(reply.hang());
  const res = await postChat(warden.url, ask('fb', false));
  assertOpenAIError(res, { status: 504, code: 'upstream_timeout' });
  await fake.waitFor(() => fake.chatRequests().length && fake.chatRequests().every((r) => r.clientClosed), 5000, 'upstream request cancelled');
});

test('stream: upstream hangs before the first byte → upstream_timeout', async () => {
  fake.reset();
  fake.setDefault(reply.hang());
  const h = openStream(`${warden.url}/v1/chat/completions`, ask('fb', true), { timeoutMs: 8000 });
  await h.ready;
  await h.done;
  assertStreamError(h, { code: 'upstream_timeout', status: 504 });
});

test('keep-alive comments alone do not count as the first payload byte', async () => {
  fake.reset();
  const keepalives = Array.from({ length: 100 }, () => [': keep-alive', { sleep: 100 }]).flat();
  fake.setDefault(reply.stream([...keepalives, chunk.role(), '[DONE]']));
  const h = openStream(`${warden.url}/v1/chat/completions`, ask('fb', true), { timeoutMs: 8000 });
  await h.ready;
  const end = await h.done;
  assert.notEqual(end.error, 'stream timed out');
  assert.ok(!h.text().includes('"role"'), 'gave up before the payload');
  assertStreamError(h, { code: 'upstream_timeout' });
});

test('non-stream blank-line keep-alives alone do not count as the first byte either', async () => {
  fake.reset();
  fake.setDefault(reply.chat({ keepAliveLines: 100, keepAliveEveryMs: 100 }));
  const res = await postChat(warden.url, ask('fb', false));
  // The status may already be committed (200) if warden forwards the blank lines;
  // either way the caller must not get a success body.
  assert.ok(!(res.json?.choices), `no completion: ${res.text}`);
  assert.ok(res.text.includes('upstream_timeout'), res.text);
});

test('total timeout ends a stream that keeps dripping payload', async () => {
  fake.reset();
  const drip = Array.from({ length: 100 }, (_, i) => [chunk.content(`d${i};`), { sleep: 100 }]).flat();
  fake.setDefault(reply.stream([chunk.role(), ...drip, '[DONE]']));
  const h = openStream(`${warden.url}/v1/chat/completions`, ask('total', true), { timeoutMs: 8000 });
  const end = await h.done;
  assert.notEqual(end.error, 'stream timed out');
  assert.ok(h.text().includes('d0;'), 'payload flowed before the deadline');
  assert.ok(!h.text().includes('d99;'));
  assertStreamError(h, { code: 'upstream_timeout' });
  await fake.waitFor(() => fake.chatRequests()[0]?.clientClosed, 5000, 'upstream request cancelled');
});

test('still healthy', async () => {
  assert.equal((await request(`${warden.url}/healthz`)).status, 200);
});
