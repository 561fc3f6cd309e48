// Streaming passthrough: events arrive in the upstream's order, each one is forwarded as
// soon as the upstream sent it (proved with gates, not clocks), and the stream ends
// with [DONE].
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { chunk, deferred, reply, startFakeUpstream, streamSteps } from '../support/fake_upstream.mjs';
import { openStream } from '../support/http.mjs';
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

const url = () => `${warden.url}/v1/chat/completions`;
const dataEvents = (h) => h.events().filter((e) => e.data !== undefined);

test('stream: same events, same order, ends with [DONE]', async () => {
  fake.reset();
  const req = { model: 'fast', stream: true, messages: [{ role: 'user', content: 'count' }] };
  const pieces = ['one', ' two', ' three', ' four', ' five', ' six'];
  const expected = streamSteps({ ...req, model: 'deepseek-v4-flash' }, { content: pieces });
  fake.setDefault(reply.stream(expected));
  const h = openStream(url(), req);
  await h.ready;
  assert.equal(h.status, 200);
  assert.match(h.headers['content-type'], /text\/event-stream/);
  const end = await h.done;
  assert.equal(end.complete, true, `stream completed: ${JSON.stringify(end)}`);
  const got = dataEvents(h);
  assert.equal(got.at(-1).data, '[DONE]');
  const gotChunks = got.slice(0, -1).map((e) => e.json);
  const wantChunks = expected.filter((s) => typeof s === 'object');
  assert.equal(gotChunks.length, wantChunks.length);
  gotChunks.forEach((c, i) => {
    assert.equal(c.object, 'chat.completion.chunk');
    assert.deepEqual(c.choices.map((ch) => ch.delta), wantChunks[i].choices.map((ch) => ch.delta), `delta #${i}`);
    assert.deepEqual(c.choices.map((ch) => ch.finish_reason), wantChunks[i].choices.map((ch) => ch.finish_reason), `finish #${i}`);
  });
  const text = gotChunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
  assert.equal(text, pieces.join(''));
});

test('each chunk reaches the client before the upstream sends the next one', async () => {
  fake.reset();
  const gates = Array.from({ length: 5 }, () => deferred());
  const steps = [chunk.role()];
  gates.forEach((g, i) => { steps.push(chunk.content(`<p${i}>`)); steps.push({ wait: g.promise }); });
  steps.push(chunk.finish('stop'), '[DONE]');
  fake.setDefault(reply.stream(steps));
  const h = openStream(url(), { model: 'fast', stream: true, messages: [{ role: 'user', content: 'drip' }] });
  for (let i = 0; i < gates.length; i++) {
    // The upstream is blocked right after <p i>: the client must already see it.
    await h.waitForText(`<p${i}>`, 5000);
    assert.ok(!h.text().includes(`<p${i + 1}>`));
    assert.ok(!h.text().includes('[DONE]'));
    gates[i].resolve();
  }
  await h.done;
  assert.match(h.text(), /data: \[DONE\]/);
});

test('stream headers are committed before the first content chunk exists', async () => {
  fake.reset();
  const gate = deferred();
  fake.setDefault(reply.stream([chunk.role(), { wait: gate.promise }, chunk.content('late'), chunk.finish('stop'), '[DONE]']));
  const h = openStream(url(), { model: 'fast', stream: true, messages: [{ role: 'user', content: 'x' }] });
  await h.ready;
  assert.equal(h.status, 200);
  await h.waitForText('"role":"assistant"');
  gate.resolve();
  await h.done;
  assert.ok(h.text().includes('late'));
});

test('slow drip upstream: every piece arrives, in order', async () => {
  fake.reset();
  const pieces = 'abcdefghij'.split('');
  fake.setDefault(reply.stream(streamSteps({ model: 'deepseek-v4-flash' }, { content: pieces }), { delayMs: 15 }));
  const h = openStream(url(), { model: 'fast', stream: true, messages: [{ role: 'user', content: 'x' }] });
  await h.done;
  const text = dataEvents(h).filter((e) => e.json).map((e) => e.json.choices[0]?.delta?.content ?? '').join('');
  assert.equal(text, 'abcdefghij');
});

test('upstream request for a stream asks for a stream', async () => {
  fake.reset();
  const h = openStream(url(), { model: 'fast', stream: true, messages: [{ role: 'user', content: 'x' }] });
  await h.done;
  const up = fake.chatRequests()[0];
  assert.equal(up.json.stream, true);
  assert.equal(up.json.model, 'deepseek-v4-flash');
});
