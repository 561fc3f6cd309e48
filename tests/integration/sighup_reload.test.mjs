// SIGHUP re-reads the config: a valid change is applied without a restart; an invalid
// file is rejected and the old config keeps serving.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { startFakeUpstream } from '../support/fake_upstream.mjs';
import { auth, eventually, postChat, request } from '../support/http.mjs';
import { makeConfig, startWarden, yamlDocument } from '../support/warden.mjs';

let fake;
let warden;
let cfg;
before(async () => {
  fake = await startFakeUpstream();
  cfg = makeConfig({ upstream: fake });
  warden = await startWarden(cfg);
});
after(async () => {
  await warden?.stop();
  await fake?.close();
});

const modelIds = async () => {
  const res = await request(`${warden.url}/v1/models`, { headers: auth() });
  return res.json?.data?.map((m) => m.id).sort();
};
const writeConfig = (text) => fs.writeFileSync(warden.configPath, text);

test('a valid new config is applied on SIGHUP', async () => {
  assert.deepEqual(await modelIds(), ['fast', 'pro']);
  const next = structuredClone(cfg);
  next.models.added = { targets: [{ provider: 'up', model: 'deepseek-v4-pro' }] };
  writeConfig(yamlDocument({ state_dir: path.join(warden.dir, 'var'), ...next }));
  warden.proc.kill('SIGHUP');
  await eventually(async () => (await modelIds())?.includes('added'), { timeoutMs: 5000, what: 'alias "added" after reload' });
  fake.reset();
  const res = await postChat(warden.url, { model: 'added', messages: [{ role: 'user', content: 'x' }] });
  assert.equal(res.status, 200, res.text);
  assert.equal(fake.chatRequests()[0].json.model, 'deepseek-v4-pro');
});

test('an invalid config is rejected on SIGHUP; the old one keeps serving', async () => {
  const before = await modelIds();
  writeConfig('providers:\n  up:\n    typo_key: 1\nmodels: [\n');
  const mark = warden.logs().length;
  warden.proc.kill('SIGHUP');
  // The rejected reload is logged with file:line:col like `warden check` prints it.
  await eventually(() => /warden\.yaml:\d+:\d+/.test(warden.logs().slice(mark)), { timeoutMs: 5000, what: 'reload error in the logs' });
  assert.equal(warden.exit, null, 'still running');
  assert.deepEqual(await modelIds(), before);
  const res = await postChat(warden.url, { model: 'added', messages: [{ role: 'user', content: 'x' }] });
  assert.equal(res.status, 200, res.text);
});
