// The official `openai` npm SDK pointed at warden (baseURL = warden/v1), with the fake
// DeepSeek upstream behind it: chat, stream, tools round trip with reasoning_content
// echoed back, models list, and errors surfacing as the SDK's typed errors.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { chunk, reply, startFakeUpstream } from '../support/fake_upstream.mjs';
import { CALLER_KEY, makeConfig, PROVIDER_KEY, startWarden } from '../support/warden.mjs';

let fake;
let warden;
let client;
before(async () => {
  fake = await startFakeUpstream();
  // The fake is DeepSeek V4 (thinking): reasoning_content must be echoed back.
  const cfg = makeConfig({ upstream: fake, provider: { reasoning_echo: 'required' } });
  cfg.providers.slow = { type: 'openai', base_url: fake.url, api_key: PROVIDER_KEY,
    timeouts: { connect_ms: 2000, first_byte_ms: 300, idle_ms: 5000, total_ms: 10000 } };
  cfg.models.slow = { targets: [{ provider: 'slow', model: 'deepseek-v4-flash' }] };
  warden = await startWarden(cfg);
  client = new OpenAI({ apiKey: CALLER_KEY, baseURL: `${warden.url}/v1`, maxRetries: 0, timeout: 15000 });
});
after(async () => {
  await warden?.stop();
  await fake?.close();
});

test('chat: content, usage and the request id', async () => {
  fake.reset();
  fake.setDefault(reply.chat({ content: 'Bonjour!' }));
  const c = await client.chat.completions.create({ model: 'fast', messages: [{ role: 'user', content: 'Say hello in French' }] });
  assert.equal(c.choices[0].message.content, 'Bonjour!');
  assert.equal(c.choices[0].finish_reason, 'stop');
  assert.equal(c.usage.total_tokens, 150);
  assert.equal(c.usage.prompt_cache_hit_tokens, 64);
  assert.ok(c._request_id, 'x-request-id surfaced by the SDK');
  assert.equal(fake.chatRequests()[0].headers.authorization, `Bearer ${PROVIDER_KEY}`);
});

test('stream: async iteration yields reasoning then content', async () => {
  fake.reset();
  fake.setDefault(reply.chat({ reasoning: ['Think', 'ing.'], content: ['Hel', 'lo', '!'] }));
  const stream = await client.chat.completions.create({
    model: 'pro', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'hi' }],
  });
  let reasoning = '';
  let content = '';
  let usage = null;
  let sawContentBeforeReasoningEnded = false;
  for await (const ch of stream) {
    const d = ch.choices[0]?.delta;
    if (d?.reasoning_content) { reasoning += d.reasoning_content; if (content) sawContentBeforeReasoningEnded = true; }
    if (d?.content) content += d.content;
    if (ch.usage) usage = ch.usage;
  }
  assert.equal(reasoning, 'Thinking.');
  assert.equal(content, 'Hello!');
  assert.equal(sawContentBeforeReasoningEnded, false);
  assert.equal(usage?.completion_tokens, 50);
});

test('stream helper: finalChatCompletion assembles the message', async () => {
  fake.reset();
  fake.setDefault(reply.chat({ content: ['Par', 'is'] }));
  const runner = client.chat.completions.stream({ model: 'fast', messages: [{ role: 'user', content: 'capital?' }] });
  const final = await runner.finalChatCompletion();
  assert.equal(final.choices[0].message.content, 'Paris');
});

test('tools round trip: tool call streamed, result sent back with reasoning_content echoed', async () => {
  fake.reset();
  const tools = [{ type: 'function', function: { name: 'get_weather', description: 'Weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }];
  // Turn 1: reasoning, then a tool call in fragments.
  fake.enqueue(reply.chat({ reasoning: ['Need weather', ' for Paris.'], content: [],
    toolCalls: [{ id: 'call_w1', name: 'get_weather', fragments: ['{"ci', 'ty": "Pa', 'ris"}'] }] }));
  // Turn 2: the final answer.
  fake.enqueue(reply.chat({ content: 'It is 21°C in Paris.' }));

  const messages = [{ role: 'user', content: 'Weather in Paris?' }];
  const stream = await client.chat.completions.create({ model: 'pro', stream: true, tools, messages });
  let reasoning = '';
  const calls = [];
  let finish = null;
  for await (const ch of stream) {
    const choice = ch.choices[0];
    if (!choice) continue;
    if (choice.delta.reasoning_content) reasoning += choice.delta.reasoning_content;
    for (const tc of choice.delta.tool_calls ?? []) {
      calls[tc.index] ??= { id: '', type: 'function', function: { name: '', arguments: '' } };
      if (tc.id) calls[tc.index].id = tc.id;
      if (tc.function?.name) calls[tc.index].function.name = tc.function.name;
      if (tc.function?.arguments) calls[tc.index].function.arguments += tc.function.arguments;
    }
    if (choice.finish_reason) finish = choice.finish_reason;
  }
  assert.equal(finish, 'tool_calls');
  assert.equal(calls.length, 1);
  assert.equal(calls[0].function.name, 'get_weather');
  const args = JSON.parse(calls[0].function.arguments);
  assert.deepEqual(args, { city: 'Paris' });

  messages.push({ role: 'assistant', content: null, reasoning_content: reasoning, tool_calls: calls });
  messages.push({ role: 'tool', tool_call_id: calls[0].id, content: JSON.stringify({ temp_c: 21 }) });
  const second = await client.chat.completions.create({ model: 'pro', tools, messages });
  assert.equal(second.choices[0].message.content, 'It is 21°C in Paris.');

  const seen = fake.chatRequests()[1].json.messages;
  assert.equal(seen[1].role, 'assistant');
  assert.equal(seen[1].reasoning_content, 'Need weather for Paris.', 'reasoning_content echoed back to DeepSeek');
  assert.deepEqual(seen[1].tool_calls, calls);
  assert.equal(seen[2].tool_call_id, 'call_w1');
  assert.deepEqual(fake.chatRequests()[1].json.tools, tools);
});

test('models.list returns the aliases', async () => {
  const ids = [];
  for await (const m of client.models.list()) ids.push(m.id);
  assert.deepEqual(ids.sort(), ['fast', 'pro', 'slow']);
});

async function expectError(p, Type, status) {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof Type, `expected ${Type.name}, got ${e?.constructor?.name}: ${e?.message}`);
    assert.ok(e instanceof OpenAI.APIError);
    if (status !== undefined) assert.equal(e.status, status);
    return e;
  }
  assert.fail(`expected ${Type.name}`);
}

const ask = (model = 'fast') => ({ model, messages: [{ role: 'user', content: 'x' }] });

test('wrong key → AuthenticationError with code invalid_api_key', async () => {
  const bad = new OpenAI({ apiKey: 'sk-not-a-warden-key', baseURL: `${warden.url}/v1`, maxRetries: 0 });
  const e = await expectError(bad.chat.completions.create(ask()), OpenAI.AuthenticationError, 401);
  assert.equal(e.code, 'invalid_api_key');
});

test('upstream 429 → RateLimitError', async () => {
  fake.reset();
  fake.setDefault(reply.error(429, 'Rate Limit Reached', { type: 'rate_limit_error', headers: { 'retry-after': '1' } }));
  const e = await expectError(client.chat.completions.create(ask()), OpenAI.RateLimitError, 429);
  assert.match(e.message, /Rate Limit Reached/);
});

test('upstream 400 → BadRequestError; 402 → APIError 402; 500 → InternalServerError', async () => {
  fake.reset();
  fake.setDefault(reply.error(400, 'Invalid request: bad messages'));
  await expectError(client.chat.completions.create(ask()), OpenAI.BadRequestError, 400);
  fake.setDefault(reply.error(402, 'Insufficient Balance', { type: 'unknown_error' }));
  const e402 = await expectError(client.chat.completions.create(ask()), OpenAI.APIError, 402);
  assert.match(e402.message, /Insufficient Balance/);
  fake.setDefault(reply.error(500, 'Server Error', { type: 'server_error' }));
  await expectError(client.chat.completions.create(ask()), OpenAI.InternalServerError, 500);
});

test('unknown model → NotFoundError', async () => {
  const e = await expectError(client.chat.completions.create(ask('no-such-alias')), OpenAI.NotFoundError, 404);
  assert.equal(e.code, 'model_not_found');
});

test('upstream timeout → InternalServerError 504 upstream_timeout (stream request too)', async () => {
  fake.reset();
  fake.setDefault(reply.hang());
  const e = await expectError(client.chat.completions.create(ask('slow')), OpenAI.InternalServerError, 504);
  assert.equal(e.code, 'upstream_timeout');
});

test('mid-stream upstream failure surfaces as an error while iterating', async () => {
  fake.reset();
  fake.setDefault(reply.stream([chunk.role(), chunk.content('partial'), { reset: true }]));
  const stream = await client.chat.completions.create({ ...ask(), stream: true });
  let content = '';
  await assert.rejects(async () => {
    for await (const ch of stream) content += ch.choices[0]?.delta?.content ?? '';
  }, (e) => e instanceof Error);
  assert.equal(content, 'partial');
});
