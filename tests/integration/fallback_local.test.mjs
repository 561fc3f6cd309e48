// The cloud upstream fails and the route falls back to the embedded engine: the caller
// gets a local answer (stream and non-stream), the attempts header counts both tries,
// and once the breaker has opened the upstream is skipped without being called.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { reply, startFakeUpstream } from '../support/fake_upstream.mjs';
import { postChat } from '../support/http.mjs';
import { CALLER_KEY, PROVIDER_KEY, runWarden, startWarden, tempDir } from '../support/warden.mjs';

let fake;
let warden;
before(async () => {
  fake = await startFakeUpstream();
  const modelDir = path.join(tempDir('warden-fallback-local-'), 'tiny');
  const made = await runWarden(['model', 'make-tiny', '--arch', 'qwen2', '--out', modelDir, '--seed', '5'], { timeoutMs: 120000 });
  assert.equal(made.code, 0, made.stderr);
  warden = await startWarden({
    providers: {
      cloud: { type: 'openai', base_url: fake.url, api_key: PROVIDER_KEY },
      local: { type: 'local', model_dir: modelDir, device: 'cpu', max_num_seqs: 2, kv_cache: { num_blocks: 128 } },
    },
    models: {
      chat: { targets: [{ provider: 'cloud', model: 'deepseek-v4-flash' }], fallback: ['on-prem'] },
      'on-prem': { targets: [{ provider: 'local', model: 'tiny-r1' }] },
    },
    routing: { retries: { max_attempts: 1 }, circuit_breaker: { failures: 2, open_s: 600 } },
    teams: { t1: {} },  // a key's team must be defined
    keys: [{ id: 'k1', team: 't1', key: CALLER_KEY }],
  }, { startTimeoutMs: 60000 });
});
after(async () => {
  await warden?.stop();
  await fake?.close();
});

const ask = { model: 'chat', messages: [{ role: 'user', content: 'Say hi.' }], max_tokens: 8, temperature: 0 };

test('an upstream 503 falls back to the local engine, which answers', async () => {
  fake.reset();
  fake.setDefault(reply.error(503, 'overloaded', { type: 'server_error' }));
  const res = await postChat(warden.url, ask);
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json.object, 'chat.completion');
  assert.equal(res.json.model, 'tiny-r1');
  assert.ok(res.json.usage.completion_tokens > 0 && res.json.usage.completion_tokens <= 8);
  assert.equal(res.headers['x-warden-attempts'], '2');
  assert.equal(fake.chatRequests().length, 1, 'the upstream was tried once');
});

test('streaming falls back too, before any byte reached the caller', async () => {
  fake.reset();
  fake.setDefault(reply.error(500, 'boom', { type: 'server_error' }));
  const res = await fetch(`${warden.url}/v1/chat/completions`, {
    method: 'POST', headers: { authorization: `Bearer ${CALLER_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ ...ask, stream: true }),
  });
  assert.equal(res.status, 200);
  const text = await res.text();
  assert.ok(text.trimEnd().endsWith('data: [DONE]'), text);
  const chunks = text.split('\n\n').filter((l) => l.startsWith('data: {')).map((l) => JSON.parse(l.slice(6)));
  assert.ok(chunks.length >= 2);
  assert.ok(chunks.every((c) => c.model === 'tiny-r1'));
  assert.ok(!text.includes('"error"'), 'the upstream failure is not shown to the caller');
});

test('with the breaker open the upstream is not called at all', async () => {
  fake.reset();
  fake.setDefault(reply.error(503, 'still down', { type: 'server_error' }));
  // Two failures above opened the breaker (failures: 2).
  const res = await postChat(warden.url, ask);
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json.model, 'tiny-r1');
  assert.equal(fake.chatRequests().length, 0, 'open breaker: the upstream was skipped');
});
