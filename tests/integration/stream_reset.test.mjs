// Upstream resets the connection: mid-stream the caller gets the chunks so far and then
// an in-band `data: {"error":...}` event; before any byte it gets an HTTP 502.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { chunk, deferred, reply, startFakeUpstream } from '../support/fake_upstream.mjs';
import { assertOpenAIError, assertStreamError, openStream, postChat, request } from '../support/http.mjs';
import { makeConfig, startWarden } from '../support/warden.mjs';

let fake;
let warden;
before(async () => {
  fake = await startFakeUpstream();
  warden = await startWarden(makeConfig({ upstream: fake }));
});
after(async () => {
  await warden?.stop();
  await fake?.close();
});

const ask = (stream) => ({ model: 'fast', stream, messages: [{ role: 'user', content: 'x' }] });

test('reset mid-stream → chunks so far, then an error event, then the stream ends', async () => {
  fake.reset();
  const gate = deferred();
  fake.setDefault(reply.stream([chunk.role(), chunk.content('partial-1'), chunk.content('partial-2'), { wait: gate.promise }, { reset: true }]));
  const h = openStream(`${warden.url}/v1/chat/completions`, ask(true));
  await h.waitForText('partial-2');
  gate.resolve();
  await h.done;
  assert.equal(h.status, 200);
  const r = assertStreamError(h);
  assert.equal(r.inBand, true);
  const text = h.text();
  assert.ok(text.indexOf('partial-2') < text.indexOf('"error"'), 'error comes after the content');
  assert.ok(!text.includes('partial-3'));
});

test('reset before any byte (stream request) → 502', async () => {
  fake.reset();
  fake.setDefault(reply.reset());
  const h = openStream(`${warden.url}/v1/chat/completions`, ask(true));
  await h.done;
  assertStreamError(h, { status: 502 });
});

test('reset before any byte (non-stream) → 502 OpenAI error', async () => {
  fake.reset();
  fake.setDefault(reply.reset());
  const res = await postChat(warden.url, ask(false));
  assertOpenAIError(res, { status: 502 });
});

test('still healthy, and the next request works', async () => {
  fake.reset();
  assert.equal((await request(`${warden.url}/healthz`)).status, 200);
  const res = await postChat(warden.url, ask(false));
  assert.equal(res.status, 200, res.text);
});
