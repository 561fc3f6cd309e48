// Streaming tool calls: the first fragment carries index/id/type/name and arguments "",
// later ones only index + an arguments fragment; the client must be able to rebuild them.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { chunk, reply, startFakeUpstream } from '../support/fake_upstream.mjs';
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

const tools = [{ type: 'function', function: { name: 'get_weather', description: 'weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];
const calls = [
  { id: 'call_abc', name: 'get_weather', fragments: ['{"ci', 'ty":', ' "Par', 'is"}'] },
  { id: 'call_def', name: 'get_time', fragments: ['{"tz":', '"Europe/Paris"}'] },
];

// Rebuild tool calls from OpenAI stream deltas, keyed by (choice, tool index).
function accumulate(events) {
  const out = [];
  for (const e of events) {
    for (const tc of e.json?.choices?.[0]?.delta?.tool_calls ?? []) {
      out[tc.index] ??= { id: undefined, name: undefined, arguments: '', pieces: 0 };
      const slot = out[tc.index];
      if (tc.id) slot.id = tc.id;
      if (tc.function?.name) slot.name = tc.function.name;
      if (typeof tc.function?.arguments === 'string') { slot.arguments += tc.function.arguments; slot.pieces++; }
    }
  }
  return out;
}

test('stream: two tool calls rebuilt exactly, finish_reason tool_calls', async () => {
  fake.reset();
  fake.setDefault(reply.chat({ content: [], toolCalls: calls }));
  const h = openStream(`${warden.url}/v1/chat/completions`, { model: 'fast', stream: true, tools, messages: [{ role: 'user', content: 'weather and time in Paris' }] });
  await h.done;
  const events = h.events();
  const rebuilt = accumulate(events);
  assert.equal(rebuilt.length, 2);
  calls.forEach((c, i) => {
    assert.equal(rebuilt[i].id, c.id);
    assert.equal(rebuilt[i].name, c.name);
    assert.equal(rebuilt[i].arguments, c.fragments.join(''));
    assert.deepEqual(JSON.parse(rebuilt[i].arguments), JSON.parse(c.fragments.join('')));
  });
  const finishes = events.map((e) => e.json?.choices?.[0]?.finish_reason).filter(Boolean);
  assert.deepEqual(finishes, ['tool_calls']);
  // The first delta of each call has the name and an empty arguments string.
  const firsts = events.flatMap((e) => e.json?.choices?.[0]?.delta?.tool_calls ?? []).filter((tc) => tc.id);
  assert.deepEqual(firsts.map((tc) => [tc.index, tc.type, tc.function.name, tc.function.arguments]),
    [[0, 'function', 'get_weather', ''], [1, 'function', 'get_time', '']]);
  assert.deepEqual(fake.chatRequests()[0].json.tools, tools);
});

test('stream: a fragment in the same chunk as the name is not lost', async () => {
  fake.reset();
  fake.setDefault(reply.stream([
    chunk.role(),
    chunk.toolStart(0, 'call_x', 'get_weather', undefined, '{"city"'),
    chunk.toolArgs(0, ':"Oslo"}'),
    chunk.finish('tool_calls'),
    '[DONE]',
  ]));
  const h = openStream(`${warden.url}/v1/chat/completions`, { model: 'fast', stream: true, tools, messages: [{ role: 'user', content: 'x' }] });
  await h.done;
  const [tc] = accumulate(h.events());
  assert.equal(tc.arguments, '{"city":"Oslo"}');
});

test('non-stream: tool_calls in the message', async () => {
  fake.reset();
  fake.setDefault(reply.chat({ content: null, toolCalls: calls }));
  const res = await postChat(warden.url, { model: 'fast', tools, messages: [{ role: 'user', content: 'x' }] });
  assert.equal(res.status, 200, res.text);
  const choice = res.json.choices[0];
  assert.equal(choice.finish_reason, 'tool_calls');
  assert.deepEqual(choice.message.tool_calls.map((t) => [t.id, t.function.name, JSON.parse(t.function.arguments)]),
    calls.map((c) => [c.id, c.name, JSON.parse(c.fragments.join(''))]));
});
