// Usage and DeepSeek cache-hit tokens reach the caller unchanged; for streams warden
// asks the upstream for usage (include_usage) and hides the extra chunk from a caller
// that did not ask for it.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { reply, startFakeUpstream } from '../support/fake_upstream.mjs';
import { openStream, postChat } from '../support/http.mjs';
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

const usage = {
  prompt_tokens: 1234, completion_tokens: 567, total_tokens: 1801,
  prompt_cache_hit_tokens: 1024, prompt_cache_miss_tokens: 210,
  prompt_tokens_details: { cached_tokens: 1024 },
  completion_tokens_details: { reasoning_tokens: 321 },
};

test('non-stream: usage with cache-hit/miss and reasoning tokens is passed unchanged', async () => {
  fake.reset();
  fake.setDefault(reply.chat({ usage }));
  const res = await postChat(warden.url, { model: 'fast', messages: [{ role: 'user', content: 'x' }] });
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.json.usage, usage);
});

test('stream with include_usage: one usage chunk (choices: []) right before [DONE]', async () => {
  fake.reset();
  fake.setDefault(reply.chat({ usage }));
  const h = openStream(`${warden.url}/v1/chat/completions`, {
    model: 'fast', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'x' }],
  });
  await h.done;
  const data = h.events().filter((e) => e.data !== undefined);
  assert.equal(data.at(-1).data, '[DONE]');
  const last = data.at(-2).json;
  assert.deepEqual(last.choices, []);
  assert.deepEqual(last.usage, usage);
  assert.equal(data.filter((e) => e.json?.usage).length, 1, 'exactly one chunk with usage totals');
  assert.equal(fake.chatRequests()[0].json.stream_options?.include_usage, true);
});

test('stream without include_usage: upstream is asked for usage, caller sees no usage chunk', async () => {
  fake.reset();
  fake.setDefault(reply.chat({ usage }));
  const h = openStream(`${warden.url}/v1/chat/completions`, {
    model: 'fast', stream: true, messages: [{ role: 'user', content: 'x' }],
  });
  await h.done;
  assert.equal(fake.chatRequests()[0].json.stream_options?.include_usage, true, 'include_usage injected upstream');
  const data = h.events().filter((e) => e.data !== undefined);
  assert.equal(data.at(-1).data, '[DONE]');
  assert.equal(data.filter((e) => e.json?.usage).length, 0, `no usage totals for the caller:\n${h.text()}`);
  assert.equal(data.filter((e) => e.json && Array.isArray(e.json.choices) && e.json.choices.length === 0).length, 0, 'no empty-choices chunk');
  const content = data.map((e) => e.json?.choices?.[0]?.delta?.content ?? '').join('');
  assert.equal(content, 'Hello from fake upstream.');
});
