// DeepSeek thinking mode: reasoning_content deltas (content null) come before content.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { reply, startFakeUpstream } from '../support/fake_upstream.mjs';
import { openStream, postChat } from '../support/http.mjs';
import { makeConfig, PROVIDER_KEY, startWarden } from '../support/warden.mjs';

let fake;
let warden;
before(async () => {
  fake = await startFakeUpstream();
  // DeepSeek V4 in thinking mode needs reasoning_content sent back after a tool call:
  // `up` says so (reasoning_echo: required); `up_strip` uses the strip mode.
  const cfg = makeConfig({ upstream: fake, provider: { reasoning_echo: 'required' } });
  cfg.providers.up_strip = { type: 'openai', base_url: fake.url, api_key: PROVIDER_KEY, reasoning_echo: 'strip' };
  cfg.models.stripped = { targets: [{ provider: 'up_strip', model: 'deepseek-v4-flash' }] };
  warden = await startWarden(cfg);
});
after(async () => {
  await warden?.stop();
  await fake?.close();
});

const reasoning = ['The user', ' asks 2+2.', ' That is 4.'];
const content = ['2 + 2', ' = 4'];

test('stream: all reasoning deltas, then content deltas, nothing lost', async () => {
  fake.reset();
  fake.setDefault(reply.chat({ reasoning, content }));
  const h = openStream(`${warden.url}/v1/chat/completions`, { model: 'pro', stream: true, messages: [{ role: 'user', content: '2+2?' }] });
  await h.done;
  const deltas = h.events().filter((e) => e.json?.choices?.length).map((e) => e.json.choices[0].delta);
  const kinds = deltas.map((d) => (d.reasoning_content ? 'r' : d.content ? 'c' : '-')).join('').replace(/-/g, '');
  assert.equal(kinds, 'rrrcc', `order of deltas: ${kinds}`);
  // DeepSeek sends content:null beside reasoning; re-encoding may drop the null.
  for (const d of deltas.filter((x) => x.reasoning_content)) assert.ok(d.content == null, `no content in a reasoning delta: ${JSON.stringify(d)}`);
  assert.equal(deltas.map((d) => d.reasoning_content ?? '').join(''), reasoning.join(''));
  assert.equal(deltas.map((d) => d.content ?? '').join(''), content.join(''));
  assert.equal(h.events().filter((e) => e.data !== undefined).at(-1).data, '[DONE]');
});

test('non-stream: message carries reasoning_content and content', async () => {
  fake.reset();
  fake.setDefault(reply.chat({ reasoning, content }));
  const res = await postChat(warden.url, { model: 'pro', messages: [{ role: 'user', content: '2+2?' }] });
  assert.equal(res.status, 200, res.text);
  const m = res.json.choices[0].message;
  assert.equal(m.reasoning_content, reasoning.join(''));
  assert.equal(m.content, content.join(''));
});

test('reasoning_content of an earlier assistant turn reaches the upstream', async () => {
  fake.reset();
  const messages = [
    { role: 'user', content: 'weather?' },
    { role: 'assistant', content: null, reasoning_content: 'I should call the tool.',
      tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
    { role: 'tool', tool_call_id: 'call_1', content: '{"temp":21}' },
  ];
  const res = await postChat(warden.url, { model: 'pro', messages });
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(fake.chatRequests()[0].json.messages, messages);
});

test('reasoning_echo: strip removes reasoning_content from earlier turns', async () => {
  fake.reset();
  const messages = [
    { role: 'user', content: 'weather?' },
    { role: 'assistant', content: null, reasoning_content: 'I should call the tool.',
      tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
    { role: 'tool', tool_call_id: 'call_1', content: '{"temp":21}' },
  ];
  const res = await postChat(warden.url, { model: 'stripped', messages });
  assert.equal(res.status, 200, res.text);
  const up = fake.chatRequests()[0].json.messages;
  assert.equal(up[1].reasoning_content, undefined);
  assert.deepEqual(up[1].tool_calls, messages[1].tool_calls);
});
