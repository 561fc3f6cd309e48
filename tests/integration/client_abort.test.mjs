// A caller that goes away cancels the upstream request: the fake sees its socket close.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';
import { chunk, reply, startFakeUpstream } from '../support/fake_upstream.mjs';
import { auth, openStream, postChat, request } from '../support/http.mjs';
import { makeConfig, startWarden } from '../support/warden.mjs';

let fake;
let warden;
before(async () => {
  fake = await startFakeUpstream();
  warden = await startWarden(makeConfig({ upstream: fake, timeouts: { connect_ms: 2000, first_byte_ms: 60000, idle_ms: 60000, total_ms: 120000 } }));
});
after(async () => {
  await warden?.stop();
  await fake?.close();
});

test('abort mid-stream → upstream connection closed', async () => {
  fake.reset();
  fake.setDefault(reply.stream([chunk.role(), chunk.content('first'), { hang: true }]));
  const h = openStream(`${warden.url}/v1/chat/completions`, { model: 'fast', stream: true, messages: [{ role: 'user', content: 'x' }] });
  await h.waitForText('first');
  const up = fake.chatRequests()[0];
  assert.equal(up.clientClosed, false);
  h.abort();
  await fake.waitFor(() => up.clientClosed, 5000, 'upstream request cancelled after client abort');
});

test('abort while the upstream has not answered yet → upstream connection closed', async () => {
  fake.reset();
  fake.setDefault(reply.hang());
  const body = JSON.stringify({ model: 'fast', messages: [{ role: 'user', content: 'x' }] });
  const req = http.request(`${warden.url}/v1/chat/completions`, {
    method: 'POST', agent: false, headers: { ...auth(), 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
  });
  req.on('error', () => {});
  req.end(body);
  const up = await fake.waitForRequest(1);
  req.destroy();
  await fake.waitFor(() => up.clientClosed, 5000, 'upstream request cancelled after client abort');
});

test('many aborted streams leave warden healthy and serving', async () => {
  fake.reset();
  fake.setDefault(reply.stream([chunk.role(), chunk.content('first'), { hang: true }]));
  for (let i = 0; i < 10; i++) {
    const h = openStream(`${warden.url}/v1/chat/completions`, { model: 'fast', stream: true, messages: [{ role: 'user', content: 'x' }] });
    await h.waitForText('first');
    h.abort();
  }
  await fake.waitFor(() => fake.chatRequests().length === 10 && fake.chatRequests().every((r) => r.clientClosed), 5000, 'all cancelled');
  fake.setDefault(reply.chat());
  assert.equal((await request(`${warden.url}/healthz`)).status, 200);
  assert.equal((await postChat(warden.url, { model: 'fast', messages: [{ role: 'user', content: 'x' }] })).status, 200);
});
