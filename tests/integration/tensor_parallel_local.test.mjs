// `tensor_parallel: 2` on a local provider: the engine runs as two simulated ranks on
// the CPU backend. The same greedy request through a tp=1 and a tp=2 provider over the
// same model folder gives the same text and usage; a split the model cannot take
// (more ranks than KV heads without replication) refuses the provider with the
// reason, and the rest of warden keeps serving.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { postChat } from '../support/http.mjs';
import { CALLER_KEY, runWarden, startWarden, tempDir } from '../support/warden.mjs';

let warden;
before(async () => {
  const modelDir = path.join(tempDir('warden-tp-local-'), 'tiny');
  const made = await runWarden(['model', 'make-tiny', '--arch', 'qwen2', '--out', modelDir, '--seed', '11'], { timeoutMs: 120000 });
  assert.equal(made.code, 0, made.stderr);
  const local = (tp) => ({ type: 'local', model_dir: modelDir, device: 'cpu', tensor_parallel: tp, max_num_seqs: 2, kv_cache: { num_blocks: 128 } });
  warden = await startWarden({
    providers: { tp1: local(1), tp2: local(2), tp3: local(3) },
    models: {
      one: { targets: [{ provider: 'tp1', model: 'tiny-r1' }] },
      two: { targets: [{ provider: 'tp2', model: 'tiny-r1' }] },
      three: { targets: [{ provider: 'tp3', model: 'tiny-r1' }] },
    },
    routing: { retries: { max_attempts: 1 }, circuit_breaker: { failures: 1000000 } },
    teams: { t1: {} },  // a key's team must be defined
    keys: [{ id: 'k1', team: 't1', key: CALLER_KEY }],
  }, { startTimeoutMs: 60000 });
});
after(async () => { await warden?.stop(); });

const ask = (model, content) => ({ model, messages: [{ role: 'user', content }], max_tokens: 24, temperature: 0 });

test('tp=2 answers exactly what tp=1 answers (greedy), for different prompts', async () => {
  const answers = [];
  for (const prompt of ['Say hi.', 'Count to five, please.']) {
    const a = await postChat(warden.url, ask('one', prompt));
    const b = await postChat(warden.url, ask('two', prompt));
    assert.equal(a.status, 200, a.text);
    assert.equal(b.status, 200, b.text);
    const text = (r) => (r.json.choices[0].message.reasoning_content ?? '') + '|' + (r.json.choices[0].message.content ?? '');
    assert.equal(text(b), text(a));
    assert.deepEqual(b.json.usage, a.json.usage);
    assert.ok(a.json.usage.completion_tokens > 0);
    answers.push(text(a));
  }
  assert.notEqual(answers[0], answers[1], 'different prompts, different answers: the comparison is not vacuous');
  assert.match(warden.logs(), /tensor_parallel 2: cpu tp=2/);
});

test('a split the model cannot take refuses that provider with the reason; others keep serving', async () => {
  const res = await postChat(warden.url, ask('three', 'Say hi.'));
  assert.equal(res.status, 503, res.text);
  assert.equal(res.json.error.code, 'engine_unavailable');
  assert.match(res.json.error.message, /tensor_parallel 3/);
  const ok = await postChat(warden.url, ask('two', 'Say hi.'));
  assert.equal(ok.status, 200, ok.text);
});
