// The official `openai` npm SDK against `warden serve` with a `type: local` provider: the
// embedded engine on a tiny random model from `warden model make-tiny` (R1-distill
// tokenizer and chat template), no upstream at all.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { CALLER_KEY, runWarden, startWarden, tempDir } from '../support/warden.mjs';

let warden;
let client;
before(async () => {
  const dir = tempDir('warden-local-model-');
  const modelDir = path.join(dir, 'tiny-r1');
  const made = await runWarden(['model', 'make-tiny', '--arch', 'qwen2', '--out', modelDir, '--seed', '3'], { timeoutMs: 120000 });
  assert.equal(made.code, 0, made.stderr);
  warden = await startWarden({
    providers: {
      local: { type: 'local', model_dir: modelDir, device: 'cpu', max_num_seqs: 4, kv_cache: { block_tokens: 16, num_blocks: 512, prefix_caching: true } },
    },
    models: { 'tiny-r1': { targets: [{ provider: 'local', model: 'tiny-r1' }] } },
    teams: { t1: {} },  // a key's team must be defined
    keys: [{ id: 'k1', team: 't1', key: CALLER_KEY }],
  }, { startTimeoutMs: 60000 });
  client = new OpenAI({ apiKey: CALLER_KEY, baseURL: `${warden.url}/v1`, maxRetries: 0, timeout: 60000 });
});
after(async () => {
  await warden?.stop();
});

// Long enough (> 2 KV blocks of 16 tokens) that a repeat can be served from the prefix cache.
const messages = [
  { role: 'system', content: 'You are a terse assistant. Answer in one short sentence, with no preamble, no lists and no apologies. If unsure, say so plainly.' },
  { role: 'user', content: 'Name three colours of the rainbow.' },
];

async function streamOnce(extra = {}) {
  const stream = await client.chat.completions.create({
    model: 'tiny-r1', stream: true, stream_options: { include_usage: true }, messages, max_tokens: 24, temperature: 0, ...extra,
  });
  const out = { reasoning: '', content: '', chunks: 0, finish: null, usage: null, ids: new Set() };
  for await (const ch of stream) {
    out.chunks += 1;
    out.ids.add(ch.id);
    const c = ch.choices[0];
    if (c?.delta?.reasoning_content) out.reasoning += c.delta.reasoning_content;
    if (c?.delta?.content) out.content += c.delta.content;
    if (c?.finish_reason) out.finish = c.finish_reason;
    if (ch.usage) out.usage = ch.usage;
  }
  return out;
}

const cacheHits = (u) => u?.prompt_cache_hit_tokens ?? u?.prompt_tokens_details?.cached_tokens ?? 0;

test('stream: the local engine answers through the openai SDK', async () => {
  const a = await streamOnce();
  assert.ok(a.chunks >= 3, `expected several chunks, got ${a.chunks}`);
  assert.equal(a.ids.size, 1, 'one completion id across chunks');
  // R1 generation starts inside <think>: the tiny model's text arrives as reasoning first.
  assert.ok(a.reasoning.length + a.content.length > 0, 'some text was generated');
  assert.ok(['length', 'stop'].includes(a.finish), `finish_reason ${a.finish}`);
  assert.ok(a.usage, 'usage chunk present (include_usage)');
  assert.ok(a.usage.prompt_tokens > 10, `prompt_tokens ${a.usage.prompt_tokens}`);
  assert.ok(a.usage.completion_tokens >= 1 && a.usage.completion_tokens <= 24);
  if (a.finish === 'length') assert.equal(a.usage.completion_tokens, 24);

  // Greedy is deterministic, and the repeated prompt is served from the prefix cache.
  const b = await streamOnce();
  assert.equal(b.reasoning, a.reasoning);
  assert.equal(b.content, a.content);
  assert.ok(cacheHits(b.usage) >= 16, `cache hit tokens ${JSON.stringify(b.usage)}`);
});

test('non-streaming answer equals the streamed one', async () => {
  const s = await streamOnce();
  const c = await client.chat.completions.create({ model: 'tiny-r1', messages, max_tokens: 24, temperature: 0 });
  const msg = c.choices[0].message;
  assert.equal(msg.content ?? '', s.content);
  assert.equal(msg.reasoning_content ?? '', s.reasoning);
  assert.equal(c.usage.completion_tokens, s.usage.completion_tokens);
});

test('seeded sampling repeats; an abandoned stream does not wedge the engine', async () => {
  const x = await streamOnce({ temperature: 1, seed: 11 });
  const y = await streamOnce({ temperature: 1, seed: 11 });
  assert.equal(x.reasoning + x.content, y.reasoning + y.content);

  const ac = new AbortController();
  const stream = await client.chat.completions.create(
    { model: 'tiny-r1', stream: true, messages, max_tokens: 2000, temperature: 0 }, { signal: ac.signal });
  let n = 0;
  try {
    for await (const _ of stream) { n += 1; if (n === 3) ac.abort(); }
  } catch (e) {
    assert.match(String(e?.name ?? e), /Abort/);
  }
  assert.ok(n >= 3 && n < 200, `stream stopped after the abort (${n} chunks)`);
  // The engine keeps serving after the client went away.
  const after = await streamOnce();
  assert.ok(after.usage.completion_tokens >= 1);
});
