// The embedded engine refuses what it cannot honour instead of answering without it: a
// caller asking for a JSON schema, three choices or a forced tool call must not get a
// plain answer it believes was constrained. 400 unsupported_parameter names the
// parameter (OpenAI and Anthropic shapes); harmless fields still pass. The sampling
// extensions it does honour (logit_bias, min_p, repetition_penalty, min_tokens,
// ignore_eos, stop_token_ids) change the answer as asked, and bad values are a 400.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { postChat } from '../support/http.mjs';
import { CALLER_KEY, runWarden, startTinyLocal } from '../support/warden.mjs';

let local;
let hello;  // the id of "Hello" in the model's vocabulary
before(async () => {
  const started = await startTinyLocal({ seed: 5 });
  local = started.warden;
  const ids = await runWarden(['tokenize', '--tokenizer', started.modelDir, 'Hello']);
  assert.equal(ids.code, 0, ids.stderr);
  [hello] = JSON.parse(ids.stdout);
});
after(async () => {
  await local?.stop();
});

const base = { model: 'tiny', messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 };
const tool = { type: 'function', function: { name: 'get_time', parameters: { type: 'object', properties: {} } } };

const refused = [
  ['n', { n: 3 }],
  ['response_format', { response_format: { type: 'json_object' } }],
  ['response_format', { response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'object' } } } }],
  ['tool_choice', { tools: [tool], tool_choice: 'required' }],
  ['tool_choice', { tools: [tool], tool_choice: { type: 'function', function: { name: 'get_time' } } }],
  ['parallel_tool_calls', { tools: [tool], parallel_tool_calls: false }],
  ['reasoning_effort', { reasoning_effort: 'low' }],
  ['prompt_logprobs', { prompt_logprobs: 1 }],
  ['best_of', { best_of: 2 }],
  ['include_stop_str_in_output', { include_stop_str_in_output: true }],
];

for (const [param, extra] of refused) {
  test(`OpenAI: ${JSON.stringify(extra)} → 400 unsupported_parameter naming ${param}`, async () => {
    const res = await postChat(local.url, { ...base, ...extra });
    assert.equal(res.status, 400, res.text);
    assert.equal(res.json.error.code, 'unsupported_parameter');
    assert.equal(res.json.error.param, param);
    assert.match(res.json.error.message, new RegExp(param));
  });
}

test('accepted: n 1, response_format text, tool_choice auto/none, thinking enabled, harmless metadata', async () => {
  for (const extra of [{ n: 1 }, { response_format: { type: 'text' } }, { tools: [tool], tool_choice: 'auto' },
    { tools: [tool], tool_choice: 'none' }, { thinking: { type: 'enabled', budget_tokens: 1024 } },
    { metadata: { run: 'x' }, store: false, service_tier: 'auto' }]) {
    const res = await postChat(local.url, { ...base, ...extra });
    assert.equal(res.status, 200, `${JSON.stringify(extra)}: ${res.text}`);
    assert.equal(res.json.choices.length, 1);
  }
});

test('Anthropic: an unknown thinking type → 400 in the Anthropic error shape', async () => {
  const res = await fetch(`${local.url}/v1/messages`, {
    method: 'POST',
    headers: { 'x-api-key': CALLER_KEY, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
    body: JSON.stringify({ model: 'tiny', max_tokens: 2, messages: [{ role: 'user', content: 'hi' }], thinking: { type: 'sometimes' } }),
  });
  assert.equal(res.status, 400);
  const body = await res.json();
  assert.equal(body.type, 'error');
  assert.equal(body.error.type, 'invalid_request_error');
  assert.match(body.error.message, /thinking/);
});

test('an over-long unknown field name is cut in the message', async () => {
  const name = 'x'.repeat(5000);
  const res = await postChat(local.url, { ...base, [name]: 1 });
  assert.equal(res.status, 400);
  assert.equal(res.json.error.code, 'unsupported_parameter');
  assert.ok(res.json.error.message.length < 300, res.json.error.message.length);
});

test('refusals are the caller\'s fault: eight in a row neither open the breaker nor get retried elsewhere', async () => {
  for (let i = 0; i < 8; i++) {
    const res = await postChat(local.url, { ...base, n: 2 });
    assert.equal(res.status, 400, res.text);
    assert.equal(res.json.error.code, 'unsupported_parameter');
  }
  const ok = await postChat(local.url, base);
  assert.equal(ok.status, 200, ok.text);
});

const text = (res) => (res.json.choices[0].message.reasoning_content ?? '') + (res.json.choices[0].message.content ?? '');

test('logit_bias +100 forces a token at every step (greedy)', async () => {
  const res = await postChat(local.url, { ...base, max_tokens: 3, temperature: 0, logit_bias: { [hello]: 100 } });
  assert.equal(res.status, 200, res.text);
  assert.equal(text(res), 'HelloHelloHello');
  // Not vacuous: without the bias the greedy answer is something else.
  const plain = await postChat(local.url, { ...base, max_tokens: 3, temperature: 0 });
  assert.notEqual(text(plain), 'HelloHelloHello');
});

test('stop_token_ids end the answer; min_tokens holds them back until enough tokens came', async () => {
  const forced = { ...base, max_tokens: 8, temperature: 0, logit_bias: { [hello]: 100 }, stop_token_ids: [hello] };
  const early = await postChat(local.url, forced);
  assert.equal(early.status, 200, early.text);
  assert.equal(early.json.usage.completion_tokens, 1);
  assert.equal(early.json.choices[0].finish_reason, 'stop');
  // vLLM's rule: min_tokens tokens come before the stop token may be sampled, so 4 others, then it.
  const held = await postChat(local.url, { ...forced, min_tokens: 4 });
  assert.equal(held.status, 200, held.text);
  assert.equal(held.json.usage.completion_tokens, 5);
  // A stop token is not part of the text: the four before it are other tokens.
  assert.ok(!text(held).includes('Hello'), text(held));
  assert.equal(held.json.choices[0].finish_reason, 'stop');
});

test('min_p and repetition_penalty are accepted and change nothing when neutral', async () => {
  const plain = await postChat(local.url, { ...base, max_tokens: 4, temperature: 0 });
  const neutral = await postChat(local.url, { ...base, max_tokens: 4, temperature: 0, min_p: 0.0, repetition_penalty: 1.0 });
  assert.equal(neutral.status, 200, neutral.text);
  assert.equal(text(neutral), text(plain));
  // A strong repetition penalty keeps a forced token from repeating... unless forced harder:
  // with +100 the bias still wins, so the answer stays all "Hello" (the penalty divides a
  // positive logit, which stays far above the rest).
  const pen = await postChat(local.url, { ...base, max_tokens: 2, temperature: 0, logit_bias: { [hello]: 100 }, repetition_penalty: 1.5 });
  assert.equal(pen.status, 200, pen.text);
  assert.equal(text(pen), 'HelloHello');
});

for (const [param, extra] of [
  ['min_p', { min_p: 2 }],
  ['repetition_penalty', { repetition_penalty: 0 }],
  ['logit_bias', { logit_bias: { abc: 1 } }],
  ['logit_bias', { logit_bias: { 10000000: 1 } }],
  ['logit_bias', { logit_bias: { 5: 101 } }],
  ['min_tokens', { min_tokens: 5, max_tokens: 2 }],
  ['stop_token_ids', { stop_token_ids: [-1] }],
  ['ignore_eos', { ignore_eos: 'yes' }],
]) {
  test(`invalid ${JSON.stringify(extra)} → 400 naming ${param}`, async () => {
    const res = await postChat(local.url, { ...base, ...extra });
    assert.equal(res.status, 400, res.text);
    assert.equal(res.json.error.param, param);
  });
}

// The random tiny model almost never writes </think> itself, so without a budget the whole
// answer is thinking; ignore_eos keeps a random EOS from ending it early.
const thinkingBase = { ...base, max_tokens: 24, temperature: 0, ignore_eos: true };
const reasoningTokens = (res) => res.json.usage.completion_tokens_details?.reasoning_tokens ?? 0;

test('thinking budget_tokens closes the thinking block after that many tokens', async () => {
  const free = await postChat(local.url, thinkingBase);
  assert.equal(free.status, 200, free.text);
  assert.ok(!free.json.choices[0].message.content, `no answer without a budget: ${free.text}`);
  const budget = 5;
  const res = await postChat(local.url, { ...thinkingBase, thinking: { type: 'enabled', budget_tokens: budget } });
  assert.equal(res.status, 200, res.text);
  const msg = res.json.choices[0].message;
  assert.ok(msg.reasoning_content, res.text);
  assert.ok(msg.content && msg.content.length > 0, `the answer starts after the budget: ${res.text}`);
  // The budget, plus the forced "\n</think>" tokens counted until the block closes.
  assert.ok(reasoningTokens(res) >= budget && reasoningTokens(res) <= budget + 4, JSON.stringify(res.json.usage));
});

test('thinking disabled: no thinking at all, the answer from the first token (OpenAI and Anthropic)', async () => {
  const res = await postChat(local.url, { ...thinkingBase, thinking: { type: 'disabled' } });
  assert.equal(res.status, 200, res.text);
  assert.ok(!res.json.choices[0].message.reasoning_content, res.text);
  assert.ok(res.json.choices[0].message.content.length > 0, res.text);
  assert.equal(reasoningTokens(res), 0);
  const anth = await fetch(`${local.url}/v1/messages`, {
    method: 'POST',
    headers: { 'x-api-key': CALLER_KEY, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
    body: JSON.stringify({ model: 'tiny', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }], thinking: { type: 'disabled' } }),
  });
  assert.equal(anth.status, 200);
  const body = await anth.json();
  assert.ok(!body.content.some((b) => b.type === 'thinking'), JSON.stringify(body));
});

test('thinking: a bad budget is a 400 naming thinking', async () => {
  const res = await postChat(local.url, { ...base, thinking: { type: 'enabled', budget_tokens: 0 } });
  assert.equal(res.status, 400, res.text);
  assert.equal(res.json.error.param, 'thinking');
});

test('logit_bias naming one token twice is refused (two +100s would pass the bound)', async () => {
  const res = await fetch(`${local.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${CALLER_KEY}`, 'content-type': 'application/json' },
    body: `{"model":"tiny","messages":[{"role":"user","content":"hi"}],"max_tokens":2,"logit_bias":{"${hello}":100,"${hello}":100}}`,
  });
  assert.equal(res.status, 400);
  const body = await res.json();
  assert.equal(body.error.param, 'logit_bias');
  assert.match(body.error.message, /twice/);
});
