// Token log-probabilities reach the caller: DeepSeek's `choices[].logprobs` passes through
// (stream and non-stream), the embedded engine reports its own, bad values are refused.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { chunk, completionBody, reply, startFakeUpstream } from '../support/fake_upstream.mjs';
import { postChat } from '../support/http.mjs';
import { CALLER_KEY, makeConfig, runWarden, startWarden, tempDir } from '../support/warden.mjs';

// What DeepSeek sends for logprobs: true, top_logprobs: 2 (token, logprob, bytes, top list).
const entry = (token, logprob, alt) => ({
  token, logprob, bytes: [...Buffer.from(token, 'utf8')],
  top_logprobs: [{ token, logprob, bytes: [...Buffer.from(token, 'utf8')] },
    { token: alt, logprob: logprob - 1.5, bytes: [...Buffer.from(alt, 'utf8')] }],
});
const upstreamEntries = [entry('Hel', -0.01, 'Hi'), entry('lo', -0.2, 'ya'), entry(' wörld', -1.25, '!')];

let fake;
let warden;
let local;
before(async () => {
  fake = await startFakeUpstream();
  warden = await startWarden(makeConfig({ upstream: fake }));
  const modelDir = path.join(tempDir('warden-logprobs-'), 'tiny');
  const made = await runWarden(['model', 'make-tiny', '--arch', 'qwen2', '--out', modelDir, '--seed', '11'], { timeoutMs: 120000 });
  assert.equal(made.code, 0, made.stderr);
  local = await startWarden({
    providers: { local: { type: 'local', model_dir: modelDir, device: 'cpu', max_num_seqs: 2, kv_cache: { num_blocks: 128 } } },
    models: { tiny: { targets: [{ provider: 'local', model: 'tiny' }] } },
    teams: { t1: {} },  // a key's team must be defined
    keys: [{ id: 'k1', team: 't1', key: CALLER_KEY }],
  }, { startTimeoutMs: 60000 });
});
after(async () => {
  await warden?.stop();
  await local?.stop();
  await fake?.close();
});

async function sse(url, body) {
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST', headers: { authorization: `Bearer ${CALLER_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ ...body, stream: true }),
  });
  assert.equal(res.status, 200);
  const text = await res.text();
  return text.split('\n\n').filter((l) => l.startsWith('data: ') && !l.includes('[DONE]')).map((l) => JSON.parse(l.slice(6)));
}

test('non-stream: the upstream logprobs come back as sent, and are asked for upstream', async () => {
  fake.reset();
  const body = completionBody({ content: 'Hello wörld' });
  body.choices[0].logprobs = { content: upstreamEntries, refusal: null };
  fake.setDefault(reply.json(body));
  const res = await postChat(warden.url, { model: 'fast', messages: [{ role: 'user', content: 'hi' }], logprobs: true, top_logprobs: 2 });
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.json.choices[0].logprobs.content, upstreamEntries);
  const [up] = fake.chatRequests();
  assert.equal(up.json.logprobs, true);
  assert.equal(up.json.top_logprobs, 2);
});

test('stream: each chunk carries its tokens\' logprobs; together they are the upstream list', async () => {
  fake.reset();
  const steps = [chunk.role()];
  upstreamEntries.forEach((e) => {
    const c = chunk.content(e.token);
    c.choices[0].logprobs = { content: [e], refusal: null };
    steps.push(c);
  });
  steps.push(chunk.finish('stop'), '[DONE]');
  fake.setDefault(reply.stream(steps));
  const chunks = await sse(warden.url, { model: 'fast', messages: [{ role: 'user', content: 'hi' }], logprobs: true, top_logprobs: 2 });
  const got = chunks.flatMap((c) => c.choices?.[0]?.logprobs?.content ?? []);
  assert.deepEqual(got, upstreamEntries);
  const withText = chunks.filter((c) => c.choices?.[0]?.delta?.content);
  for (const c of withText) assert.equal(c.choices[0].logprobs.content[0].token, c.choices[0].delta.content);
});

test('without logprobs the field stays null', async () => {
  fake.reset();
  fake.setDefault(reply.chat({ content: 'plain' }));
  const res = await postChat(warden.url, { model: 'fast', messages: [{ role: 'user', content: 'hi' }] });
  assert.equal(res.json.choices[0].logprobs, null);
});

test('top_logprobs out of range or without logprobs is a 400 naming the parameter', async () => {
  for (const extra of [{ logprobs: true, top_logprobs: 21 }, { logprobs: true, top_logprobs: -1 }, { top_logprobs: 3 }]) {
    const res = await postChat(warden.url, { model: 'fast', messages: [{ role: 'user', content: 'hi' }], ...extra });
    assert.equal(res.status, 400, JSON.stringify(extra));
    assert.equal(res.json.error.param, 'top_logprobs');
    assert.equal(res.json.error.type, 'invalid_request_error');
  }
});

test('local engine: one entry per generated token, greedy picks the top alternative', async () => {
  const res = await postChat(local.url, {
    model: 'tiny', messages: [{ role: 'user', content: 'Count to three.' }], max_tokens: 12, temperature: 0,
    logprobs: true, top_logprobs: 3,
  });
  assert.equal(res.status, 200, res.text);
  const lp = res.json.choices[0].logprobs;
  const entries = [...(lp.reasoning_content ?? []), ...(lp.content ?? [])];
  assert.equal(entries.length, res.json.usage.completion_tokens);
  for (const e of entries) {
    assert.ok(e.logprob <= 0, `logprob ${e.logprob}`);
    assert.equal(e.top_logprobs.length, 3);
    const tops = e.top_logprobs.map((t) => t.logprob);
    assert.deepEqual(tops, [...tops].sort((a, b) => b - a), 'best first');
    // temperature 0 is greedy: the chosen token is the most likely one
    assert.deepEqual(e.bytes, e.top_logprobs[0].bytes);
    assert.ok(Math.abs(e.logprob - e.top_logprobs[0].logprob) < 1e-6);
    const text = Buffer.from(e.bytes).toString('utf8');
    if (!text.includes('\uFFFD')) assert.equal(e.token, text);
  }
  // The streamed answer reports the same tokens.
  const chunks = await sse(local.url, {
    model: 'tiny', messages: [{ role: 'user', content: 'Count to three.' }], max_tokens: 12, temperature: 0,
    logprobs: true, top_logprobs: 3,
  });
  const streamed = chunks.flatMap((c) => [...(c.choices?.[0]?.logprobs?.reasoning_content ?? []), ...(c.choices?.[0]?.logprobs?.content ?? [])]);
  assert.deepEqual(streamed.map((e) => e.bytes), entries.map((e) => e.bytes));
});
