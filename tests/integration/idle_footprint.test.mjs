// A gateway with no local engine must not carry the CUDA backend's libraries: cuBLAS is
// loaded on first use by the CUDA backend only (loading libcublasLt alone costs ~150 MB
// resident). Checked in the process's own memory map, so it holds with or without a GPU
// and in builds with or without the CUDA backend.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, test } from 'node:test';
import { startFakeUpstream, reply } from '../support/fake_upstream.mjs';
import { postChat } from '../support/http.mjs';
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

test('serving cloud traffic never maps cuBLAS or NCCL', async () => {
  fake.setDefault(reply.chat({ content: 'hello' }));
  const res = await postChat(warden.url, { model: 'fast', messages: [{ role: 'user', content: 'hi' }] });
  assert.equal(res.status, 200, res.text);
  const maps = fs.readFileSync(`/proc/${warden.proc.pid}/maps`, 'utf8');
  assert.ok(maps.includes('warden'), 'the map is the warden process');
  for (const lib of ['libcublas', 'libcublasLt', 'libnccl']) assert.ok(!maps.includes(lib), `${lib} is mapped`);
});
