// The official `@anthropic-ai/sdk` pointed at warden (baseURL = warden/anthropic), with
// an OpenAI-format (DeepSeek) fake and an Anthropic-format fake behind it: messages,
// streaming (the SDK's stream helper assembles the final message), tools round trip,
// thinking (signatures kept when the upstream speaks Anthropic), count_tokens, errors.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { reply, startFakeUpstream } from '../support/fake_upstream.mjs';
import { anthropic, anthropicUsage } from '../support/fault_upstream.mjs';
import { CALLER_KEY, makeConfig, PROVIDER_KEY, startWarden } from '../support/warden.mjs';

let oai;   // OpenAI-format fake (DeepSeek)
let ant;   // Anthropic-format fake
let warden;
let client;

before(async () => {
  oai = await startFakeUpstream();
  ant = await startFakeUpstream();
  const cfg = makeConfig({ upstream: oai });
  cfg.providers.claude = { type: 'anthropic', base_url: `${ant.url}/anthropic`, api_key: PROVIDER_KEY };
  cfg.models.claude = { targets: [{ provider: 'claude', model: 'claude-upstream-1' }] };
  warden = await startWarden(cfg);
  client = new Anthropic({ apiKey: CALLER_KEY, baseURL: `${warden.url}/anthropic`, maxRetries: 0, timeout: 15000 });
});
after(async () => {
  await warden?.stop();
  await oai?.close();
  await ant?.close();
});

const weatherTool = {
  name: 'get_weather', description: 'Weather for a city',
  input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

// ---- → OpenAI-format upstream -----------------------------------------------------------

test('messages → OpenAI upstream: text, stop_reason, usage without double-counted cache', async () => {
  oai.reset();
  oai.setDefault(reply.chat({ content: 'Bonjour!' }));
  const msg = await client.messages.create({
    model: 'fast', max_tokens: 256, system: 'Answer in French.',
    messages: [{ role: 'user', content: 'Say hello' }], metadata: { user_id: 'alice' }, stop_sequences: ['END'],
  });
  assert.equal(msg.type, 'message');
  assert.equal(msg.role, 'assistant');
  assert.deepEqual(msg.content, [{ type: 'text', text: 'Bonjour!' }]);
  assert.equal(msg.stop_reason, 'end_turn');
  // fake usage: prompt 100 of which 64 cache hits, completion 50
  assert.equal(msg.usage.input_tokens, 36);
  assert.equal(msg.usage.cache_read_input_tokens, 64);
  assert.equal(msg.usage.output_tokens, 50);
  const sent = oai.chatRequests()[0];
  assert.equal(sent.json.model, 'deepseek-v4-flash');
  assert.deepEqual(sent.json.messages[0], { role: 'system', content: 'Answer in French.' });
  assert.equal(sent.json.messages[1].role, 'user');
  assert.equal(sent.json.max_tokens, 256);
  assert.deepEqual(sent.json.stop, ['END']);
  assert.equal(sent.headers.authorization, `Bearer ${PROVIDER_KEY}`);
  assert.equal(sent.headers['x-api-key'], undefined);
});

test('stream → OpenAI upstream: the SDK stream helper assembles thinking + text', async () => {
  oai.reset();
  oai.setDefault(reply.chat({ reasoning: ['Let me ', 'think.'], content: ['Hel', 'lo', '!'] }));
  const stream = client.messages.stream({ model: 'fast', max_tokens: 256, messages: [{ role: 'user', content: 'hi' }] });
  const types = [];
  stream.on('streamEvent', (e) => types.push(e.type));
  const final = await stream.finalMessage();
  assert.equal(final.content.length, 2);
  assert.equal(final.content[0].type, 'thinking');
  assert.equal(final.content[0].thinking, 'Let me think.');
  assert.deepEqual(final.content[1], { type: 'text', text: 'Hello!' });
  assert.equal(final.stop_reason, 'end_turn');
  assert.equal(final.usage.output_tokens, 50);
  assert.equal(final.usage.input_tokens, 36);
  assert.equal(types[0], 'message_start');
  assert.deepEqual(types.slice(-2), ['message_delta', 'message_stop']);
  assert.equal(oai.chatRequests()[0].json.stream, true);
});

test('tools round trip → OpenAI upstream: parallel tool calls streamed, results sent back', async () => {
  oai.reset();
  oai.enqueue(reply.chat({
    content: [],
    toolCalls: [
      { id: 'call_paris', name: 'get_weather', fragments: ['{"city":', '"Paris"}'] },
      { id: 'call_rome', name: 'get_weather', fragments: ['{"city":"Rome"}'] },
    ],
  }));
  const first = await client.messages.stream({
    model: 'fast', max_tokens: 256, tools: [weatherTool], tool_choice: { type: 'auto' },
    messages: [{ role: 'user', content: 'Weather in Paris and Rome?' }],
  }).finalMessage();
  assert.equal(first.stop_reason, 'tool_use');
  const uses = first.content.filter((b) => b.type === 'tool_use');
  assert.deepEqual(uses.map((u) => [u.id, u.name, u.input]), [
    ['call_paris', 'get_weather', { city: 'Paris' }],
    ['call_rome', 'get_weather', { city: 'Rome' }],
  ]);
  const up1 = oai.chatRequests()[0].json;
  assert.equal(up1.tools[0].type, 'function');
  assert.equal(up1.tools[0].function.name, 'get_weather');
  assert.deepEqual(up1.tools[0].function.parameters, weatherTool.input_schema);
  assert.equal(up1.tool_choice, 'auto');

  oai.enqueue(reply.chat({ content: 'Paris 18C, Rome unknown.' }));
  const second = await client.messages.create({
    model: 'fast', max_tokens: 256, tools: [weatherTool],
    messages: [
      { role: 'user', content: 'Weather in Paris and Rome?' },
      { role: 'assistant', content: first.content },
      { role: 'user', content: [
        { type: 'tool_result', tool_use_id: 'call_paris', content: '18C' },
        { type: 'tool_result', tool_use_id: 'call_rome', content: 'service down', is_error: true },
      ] },
    ],
  });
  assert.equal(second.content[0].text, 'Paris 18C, Rome unknown.');
  const msgs = oai.chatRequests()[1].json.messages;
  assert.equal(msgs[1].role, 'assistant');
  assert.deepEqual(msgs[1].tool_calls.map((c) => [c.id, c.function.name, JSON.parse(c.function.arguments)]),
    [['call_paris', 'get_weather', { city: 'Paris' }], ['call_rome', 'get_weather', { city: 'Rome' }]]);
  assert.deepEqual(msgs.slice(2).map((m) => [m.role, m.tool_call_id]), [['tool', 'call_paris'], ['tool', 'call_rome']]);
  assert.equal(msgs[2].content, '18C');
});

test('count_tokens answers an estimate without calling the upstream', async () => {
  oai.reset();
  const r = await client.messages.countTokens({ model: 'fast', messages: [{ role: 'user', content: 'x'.repeat(400) }] });
  assert.ok(r.input_tokens >= 100 && r.input_tokens < 110, `input_tokens ${r.input_tokens}`);
  assert.equal(oai.requests.length, 0);
  await assert.rejects(client.messages.countTokens({ model: 'nope', messages: [{ role: 'user', content: 'x' }] }),
    (e) => e instanceof Anthropic.NotFoundError);
});

test('errors come back in Anthropic shape as the SDK typed errors', async () => {
  await assert.rejects(new Anthropic({ apiKey: 'sk-wrong', baseURL: `${warden.url}/anthropic`, maxRetries: 0 })
    .messages.create({ model: 'fast', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }),
  (e) => e instanceof Anthropic.AuthenticationError && e.error?.type === 'error' && e.error?.error?.type === 'authentication_error');
  await assert.rejects(client.messages.create({ model: 'no-such-model', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }),
    (e) => e instanceof Anthropic.NotFoundError && e.error?.error?.type === 'not_found_error');
  oai.reset();
  oai.setDefault(reply.error(400, 'Invalid request: bad', { type: 'invalid_request_error' }));
  await assert.rejects(client.messages.create({ model: 'fast', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }),
    (e) => e instanceof Anthropic.BadRequestError && e.error?.error?.type === 'invalid_request_error');
});

test('the Bearer form of the key works too, and /v1/messages without the prefix', async () => {
  oai.reset();
  oai.setDefault(reply.chat({ content: 'ok' }));
  const bearer = new Anthropic({ authToken: CALLER_KEY, apiKey: null, baseURL: warden.url, maxRetries: 0 });
  const msg = await bearer.messages.create({ model: 'fast', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] });
  assert.equal(msg.content[0].text, 'ok');
});

// ---- → Anthropic-format upstream --------------------------------------------------------

test('messages → Anthropic upstream: headers passed through, signatures kept, usage mapped', async () => {
  ant.reset();
  ant.setDefault(anthropic.message({
    blocks: [{ type: 'thinking', thinking: 'ponder', signature: 'sig-XYZ' }, { type: 'text', text: 'Hi from Claude.' }],
  }));
  const msg = await client.messages.create({
    model: 'claude', max_tokens: 1024, thinking: { type: 'enabled', budget_tokens: 1024 },
    messages: [{ role: 'user', content: 'hello' }],
  }, { headers: { 'anthropic-beta': 'interleaved-thinking-2025-05-14', 'anthropic-version': '2023-06-01' } });
  assert.deepEqual(msg.content, [{ type: 'thinking', thinking: 'ponder', signature: 'sig-XYZ' }, { type: 'text', text: 'Hi from Claude.' }]);
  assert.equal(msg.usage.input_tokens, anthropicUsage.input_tokens);
  assert.equal(msg.usage.cache_read_input_tokens, anthropicUsage.cache_read_input_tokens);
  assert.equal(msg.usage.cache_creation_input_tokens, anthropicUsage.cache_creation_input_tokens);
  assert.equal(msg.usage.output_tokens, anthropicUsage.output_tokens);
  const sent = ant.requests[0];
  assert.equal(sent.path, '/anthropic/v1/messages');
  assert.equal(sent.headers['x-api-key'], PROVIDER_KEY);
  assert.equal(sent.headers['anthropic-version'], '2023-06-01');
  assert.equal(sent.headers['anthropic-beta'], 'interleaved-thinking-2025-05-14');
  assert.equal(sent.json.model, 'claude-upstream-1');
  assert.deepEqual(sent.json.thinking, { type: 'enabled', budget_tokens: 1024 });
  assert.deepEqual(sent.json.messages, [{ role: 'user', content: [{ type: 'text', text: 'hello' }] }]);
});

test('stream → Anthropic upstream: thinking with signature, tools, and the signature sent back next turn', async () => {
  ant.reset();
  ant.enqueue(anthropic.message({
    blocks: [
      { type: 'thinking', thinking: 'need weather', signature: 'sig-turn-1' },
      { type: 'tool_use', id: 'toolu_01', name: 'get_weather', input: { city: 'Paris' } },
    ],
  }));
  const first = await client.messages.stream({
    model: 'claude', max_tokens: 1024, tools: [weatherTool], messages: [{ role: 'user', content: 'Weather in Paris?' }],
  }).finalMessage();
  assert.equal(first.stop_reason, 'tool_use');
  assert.deepEqual(first.content[0], { type: 'thinking', thinking: 'need weather', signature: 'sig-turn-1' });
  assert.deepEqual(first.content[1], { type: 'tool_use', id: 'toolu_01', name: 'get_weather', input: { city: 'Paris' } });
  assert.equal(ant.requests[0].json.stream, true);
  assert.equal(ant.requests[0].json.tools[0].name, 'get_weather');

  ant.enqueue(anthropic.message({ blocks: [{ type: 'text', text: 'Sunny.' }] }));
  const second = await client.messages.create({
    model: 'claude', max_tokens: 1024, tools: [weatherTool],
    messages: [
      { role: 'user', content: 'Weather in Paris?' },
      { role: 'assistant', content: first.content },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_01', content: '18C' }] },
    ],
  });
  assert.equal(second.content[0].text, 'Sunny.');
  const sentMsgs = ant.requests[1].json.messages;
  assert.deepEqual(sentMsgs[1], { role: 'assistant', content: [
    { type: 'thinking', thinking: 'need weather', signature: 'sig-turn-1' },
    { type: 'tool_use', id: 'toolu_01', name: 'get_weather', input: { city: 'Paris' } },
  ] });
  assert.deepEqual(sentMsgs[2], { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_01', content: '18C' }] });
});

test('OpenAI caller → Anthropic upstream: the answer comes back as chat.completion', async () => {
  ant.reset();
  ant.setDefault(anthropic.message({ blocks: [{ type: 'thinking', thinking: 'hm', signature: 's' }, { type: 'text', text: 'Hi.' }] }));
  const res = await fetch(`${warden.url}/v1/chat/completions`, {
    method: 'POST', headers: { authorization: `Bearer ${CALLER_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'claude', messages: [{ role: 'system', content: 'Be nice.' }, { role: 'user', content: 'hey' }] }),
  });
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  assert.equal(body.choices[0].message.content, 'Hi.');
  assert.equal(body.choices[0].message.reasoning_content, 'hm');
  assert.equal(body.choices[0].finish_reason, 'stop');
  assert.equal(body.usage.prompt_tokens, anthropicUsage.input_tokens + anthropicUsage.cache_read_input_tokens + anthropicUsage.cache_creation_input_tokens);
  const sent = ant.requests[0].json;
  assert.deepEqual(sent.system, [{ type: 'text', text: 'Be nice.' }]);
  assert.equal(ant.requests[0].headers['anthropic-version'], '2023-06-01', 'default version when the caller sent none');
  assert.equal(ant.requests[0].headers['x-api-key'], PROVIDER_KEY);
  assert.equal(sent.max_tokens, 4096);
});

test('Anthropic upstream error keeps its status and Anthropic type', async () => {
  ant.reset();
  ant.setDefault(anthropic.error(400, 'invalid_request_error', 'max_tokens: too large'));
  await assert.rejects(client.messages.create({ model: 'claude', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }),
    (e) => e instanceof Anthropic.BadRequestError && /max_tokens/.test(e.message));
});
