// Non-streaming proxy: what the caller gets back and what reached the upstream.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { completionBody, reply, startFakeUpstream } from '../support/fake_upstream.mjs';
import { auth, postChat } from '../support/http.mjs';
import { CALLER_KEY, makeConfig, PROVIDER_KEY, startWarden } from '../support/warden.mjs';

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

test('non-stream answer comes back with the upstream content and usage', async () => {
  fake.reset();
  fake.setDefault(reply.chat({ content: 'The capital of France is Paris.' }));
  const res = await postChat(warden.url, { model: 'fast', messages: [{ role: 'user', content: 'capital of France?' }] });
  assert.equal(res.status, 200, res.text);
  assert.match(res.headers['content-type'], /application\/json/);
  assert.equal(res.json.object, 'chat.completion');
  assert.equal(res.json.choices[0].message.role, 'assistant');
  assert.equal(res.json.choices[0].message.content, 'The capital of France is Paris.');
  assert.equal(res.json.choices[0].finish_reason, 'stop');
  assert.deepEqual(res.json.usage, completionBody().usage);
});

test('alias resolves to the target model; provider key injected; caller key never forwarded', async () => {
  fake.reset();
  fake.forModel('deepseek-v4-pro', reply.chat({ content: 'answered by pro' }));
  const res = await postChat(warden.url, { model: 'pro', messages: [{ role: 'user', content: 'hi' }] });
  assert.equal(res.json?.choices?.[0]?.message?.content, 'answered by pro', res.text);
  const [up] = fake.chatRequests();
  assert.ok(up, 'upstream saw the request');
  assert.equal(up.method, 'POST');
  assert.match(up.path, /\/chat\/completions$/);
  assert.equal(up.json.model, 'deepseek-v4-pro');
  assert.equal(up.headers.authorization, `Bearer ${PROVIDER_KEY}`);
  const everything = JSON.stringify(up.headers) + up.rawBody;
  assert.ok(!everything.includes(CALLER_KEY), 'caller key must not reach the upstream');
});

test('unknown fields pass through untouched, top level and inside messages', async () => {
  fake.reset();
  const body = {
    model: 'fast',
    messages: [
      { role: 'system', content: 'be brief' },
      { role: 'user', content: [{ type: 'text', text: 'hello' }], x_message_extra: { keep: [1, 'two', null] } },
    ],
    temperature: 0.3,
    user_id: 'team-alpha_42',
    thinking: { type: 'disabled' },
    x_vendor_field: { nested: { a: [1, 2, 3], b: 'ü∑😀' }, n: 1.5e-7 },
  };
  const res = await postChat(warden.url, body);
  assert.equal(res.status, 200, res.text);
  const up = fake.chatRequests()[0].json;
  assert.deepEqual(up.x_vendor_field, body.x_vendor_field);
  assert.deepEqual(up.thinking, body.thinking);
  // The end-user id is never forwarded as written: DeepSeek gets warden's keyed hash.
  assert.match(up.user_id, /^u_[A-Za-z0-9_-]{22}$/);
  assert.notEqual(up.user_id, body.user_id);
  assert.equal(up.temperature, 0.3);
  assert.deepEqual(up.messages, body.messages);
});

test('non-stream blank-line keep-alives before the body still give a valid JSON answer', async () => {
  fake.reset();
  fake.setDefault(reply.chat({ content: 'after the queue', keepAliveLines: 3 }));
  const res = await postChat(warden.url, { model: 'fast', messages: [{ role: 'user', content: 'hi' }] });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json?.choices?.[0]?.message?.content, 'after the queue');
});

test('keep-alive: several requests on warden and upstream connections in a row', async () => {
  fake.reset();
  for (let i = 0; i < 5; i++) {
    const res = await postChat(warden.url, { model: 'fast', messages: [{ role: 'user', content: `n${i}` }] }, { headers: auth() });
    assert.equal(res.status, 200, res.text);
  }
  assert.equal(fake.chatRequests().length, 5);
});
