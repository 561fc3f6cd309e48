// SIGTERM drains: the listener closes at once (new connections refused) while an
// in-flight stream runs to its end; then the process exits 0.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { chunk, deferred, reply, startFakeUpstream } from '../support/fake_upstream.mjs';
import { canConnect, eventually, openStream } from '../support/http.mjs';
import { makeConfig, startWarden } from '../support/warden.mjs';

// Resolve with the promise's value, or 'timeout' after ms (timer cleared either way, so
// it does not keep the test process alive).
function within(promise, ms) {
  let timer;
  return Promise.race([promise, new Promise((r) => { timer = setTimeout(() => r('timeout'), ms); })]).finally(() => clearTimeout(timer));
}

let fake;
let warden;
before(async () => {
  fake = await startFakeUpstream();
  warden = await startWarden(makeConfig({ upstream: fake }));
});
after(async () => {
  await warden?.stop('SIGKILL');
  await fake?.close();
});

test('SIGTERM: in-flight stream finishes, new connections refused, exit 0', async () => {
  const gate = deferred();
  fake.setDefault(reply.stream([chunk.role(), chunk.content('before-term'), { wait: gate.promise }, chunk.content('after-term'), chunk.finish('stop'), '[DONE]']));
  const h = openStream(`${warden.url}/v1/chat/completions`, { model: 'fast', stream: true, messages: [{ role: 'user', content: 'x' }] }, { timeoutMs: 20000 });
  await h.waitForText('before-term');

  warden.proc.kill('SIGTERM');
  await eventually(async () => !(await canConnect(warden.port)), { timeoutMs: 5000, what: 'listener closed' });
  assert.equal(warden.exit, null, 'still running while a stream is in flight');

  gate.resolve();
  const end = await h.done;
  assert.equal(end.complete, true, `stream completed: ${JSON.stringify(end)}`);
  assert.ok(h.text().includes('after-term'));
  assert.match(h.text(), /data: \[DONE\]/);

  const exit = await within(warden.exited, 10000);
  assert.notEqual(exit, 'timeout', 'exited after the drain');
  assert.deepEqual(exit, { code: 0, signal: null });
});

test('SIGTERM with a stream that never ends: cancelled at drain_timeout_ms, then exit', async () => {
  const fake2 = await startFakeUpstream();
  const w = await startWarden(makeConfig({ upstream: fake2, server: { limits: { drain_timeout_ms: 500 } } }));
  try {
    fake2.setDefault(reply.stream([chunk.role(), chunk.content('stuck'), { hang: true }]));
    const h = openStream(`${w.url}/v1/chat/completions`, { model: 'fast', stream: true, messages: [{ role: 'user', content: 'x' }] }, { timeoutMs: 20000 });
    await h.waitForText('stuck');
    w.proc.kill('SIGTERM');
    const exit = await within(w.exited, 10000);
    assert.notEqual(exit, 'timeout', 'exited after the drain deadline');
    const end = await h.done;
    assert.notEqual(end.error, 'stream timed out', 'the client connection was closed by warden');
    await fake2.waitFor(() => fake2.chatRequests()[0]?.clientClosed, 5000, 'upstream request cancelled');
  } finally {
    await w.stop('SIGKILL');
    await fake2.close();
  }
});
