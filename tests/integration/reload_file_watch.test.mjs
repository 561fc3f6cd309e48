// Saving the config file reloads it without SIGHUP (editors save by writing a temp file
// and renaming it over the original): a valid change takes effect, an invalid one keeps
// the old config serving and shows in /admin/config, and rewriting the file while
// requests flow drops none of them.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { startFakeUpstream } from '../support/fake_upstream.mjs';
import { auth, eventually, postChat, request } from '../support/http.mjs';
import { makeConfig, startWarden, yamlDocument } from '../support/warden.mjs';

const ADMIN_TOKEN = 'admin-token-reload-test-5d1e';
const adminAuth = { authorization: `Bearer ${ADMIN_TOKEN}` };
let fake;
let warden;
let cfg;
let adminUrl;

before(async () => {
  fake = await startFakeUpstream();
  cfg = makeConfig({ upstream: fake, server: { admin_listen: '127.0.0.1:0', admin_token: ADMIN_TOKEN } });
  warden = await startWarden(cfg);
  const m = await eventually(() => /admin listening on (\S+):(\d+)/.exec(warden.logs()), { what: 'admin listener' });
  adminUrl = `http://127.0.0.1:${m[2]}`;
});
after(async () => {
  await warden?.stop();
  await fake?.close();
});

// Like an editor: write a sibling temp file, then rename it over the config.
let saves = 0;
function save(text) {
  const tmp = path.join(path.dirname(warden.configPath), `.warden.yaml.${saves++}.swp`);
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, warden.configPath);
}
const document = (c) => yamlDocument({ state_dir: path.join(warden.dir, 'var'), ...c });
const modelIds = async () => (await request(`${warden.url}/v1/models`, { headers: auth() })).json?.data?.map((m) => m.id).sort();
const adminConfig = async () => (await request(`${adminUrl}/admin/config`, { headers: adminAuth })).json;

test('a saved valid config takes effect without SIGHUP', async () => {
  assert.deepEqual(await modelIds(), ['fast', 'pro']);
  const gen = (await adminConfig()).generation;
  const next = structuredClone(cfg);
  next.models.saved = { targets: [{ provider: 'up', model: 'deepseek-v4-pro' }] };
  save(document(next));
  await eventually(async () => (await modelIds())?.includes('saved'), { timeoutMs: 8000, what: 'alias "saved" after the file was saved' });
  const after = await adminConfig();
  assert.ok(after.generation > gen);
  assert.equal(after.last_reload.ok, true);
  fake.reset();
  const res = await postChat(warden.url, { model: 'saved', messages: [{ role: 'user', content: 'x' }] });
  assert.equal(res.status, 200, res.text);
  assert.equal(fake.chatRequests()[0].json.model, 'deepseek-v4-pro');
  cfg = next;
});

test('a saved invalid config keeps the old one serving; the error (file:line:col) is in /admin/config', async () => {
  const before = await modelIds();
  const gen = (await adminConfig()).generation;
  save(`${document(cfg)}models_typo: 1\n`);
  const status = await eventually(async () => {
    const c = await adminConfig();
    return c.last_reload && c.last_reload.ok === false ? c : null;
  }, { timeoutMs: 8000, what: 'failed reload in /admin/config' });
  assert.equal(status.generation, gen, 'generation unchanged');
  assert.ok(status.last_reload.errors.some((e) => /warden\.yaml:\d+:\d+: .*models_typo/.test(e)), JSON.stringify(status.last_reload));
  assert.match(warden.logs(), /warden\.yaml:\d+:\d+/);
  assert.equal(warden.exit, null, 'still running');
  assert.deepEqual(await modelIds(), before);
  const res = await postChat(warden.url, { model: 'saved', messages: [{ role: 'user', content: 'x' }] });
  assert.equal(res.status, 200, res.text);
  save(document(cfg));  // repair for the next test
  await eventually(async () => (await adminConfig()).last_reload?.ok === true, { timeoutMs: 8000, what: 'repaired config' });
});

test('rewriting the file under load drops no request', async () => {
  const startGen = (await adminConfig()).generation;
  let stop = false;
  const results = [];
  const worker = async () => {
    while (!stop) {
      const res = await postChat(warden.url, { model: 'fast', messages: [{ role: 'user', content: 'load' }] });
      results.push(res.status);
    }
  };
  const workers = Array.from({ length: 4 }, worker);
  const rewrites = 4;
  for (let i = 0; i < rewrites; i++) {
    const next = structuredClone(cfg);
    next.models[`gen${i}`] = { targets: [{ provider: 'up', model: `m-${i}` }] };
    save(document(next));
    await eventually(async () => (await modelIds())?.includes(`gen${i}`), { timeoutMs: 8000, what: `reload ${i}` });
  }
  stop = true;
  await Promise.all(workers);
  assert.ok((await adminConfig()).generation >= startGen + rewrites);
  assert.ok(results.length >= rewrites, `only ${results.length} requests ran`);
  const failed = results.filter((s) => s !== 200);
  assert.deepEqual(failed, [], `${failed.length} of ${results.length} requests failed during reloads`);
});
