// Virtual keys over the admin API, against a real warden and a real fake upstream: a key
// made with POST /admin/keys works at once, is listed without its secret, and stops
// working on the very next request after DELETE; rotate swaps it; bad bodies are 400s,
// unknown ids 404s; every mutation lands in the audit log (verified by `warden audit
// verify`) without the key; the CLI and the API see the same store.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { reply, startFakeUpstream } from '../support/fake_upstream.mjs';
import { assertLogsClean, assertOpenAIError, auth, eventually, postChat, request } from '../support/http.mjs';
import { makeConfig, runWarden, sha256Hex, startWarden } from '../support/warden.mjs';

const ADMIN_TOKEN = 'admin-token-keys-test-93c1e7';
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };

let fake;
let warden;
let adminUrl;
const secrets = [];  // every key the API handed out: must never show up in logs or the audit file

before(async () => {
  fake = await startFakeUpstream();
  fake.setDefault(reply.chat({ content: 'hello from upstream' }));
  warden = await startWarden(makeConfig({
    upstream: fake,
    server: { admin_listen: '127.0.0.1:0', admin_token: ADMIN_TOKEN },
    extra: {
      teams: {
        t1: {},
        t2: { models: ['fast', 'pro'], key_rate_limits: { rpm: 120, tpm: 50000, concurrency: 3 } },
      },
      audit: { file: 'audit.jsonl', fsync: 'none' },
    },
  }));
  const m = await eventually(() => /admin listening on (\S+):(\d+)/.exec(warden.logs()), { what: 'admin listener' });
  adminUrl = `http://127.0.0.1:${m[2]}`;
});
after(async () => {
  await warden?.stop();
  await fake?.close();
});

const api = (p, opts = {}) => request(`${adminUrl}${p}`, { ...opts, headers: { ...admin, ...(opts.headers ?? {}) } });
const chat = (key, model = 'fast') => postChat(warden.url, { model, messages: [{ role: 'user', content: 'hi' }] }, { headers: auth(key) });

async function createKey(body) {
  const res = await api('/admin/keys', { method: 'POST', body });
  assert.equal(res.status, 201, res.text);
  secrets.push(res.json.key);
  return res;
}

test('admin key endpoints need the admin token (401, OpenAI-shaped)', async () => {
  const calls = [
    ['GET', '/admin/keys'], ['POST', '/admin/keys'], ['GET', '/admin/keys/vk_x'], ['DELETE', '/admin/keys/vk_x'],
    ['POST', '/admin/keys/vk_x/rotate'], ['GET', '/admin/teams'],
  ];
  for (const [method, p] of calls) {
    const body = method === 'POST' ? { team: 't1', name: 'nope' } : undefined;
    assertOpenAIError(await request(`${adminUrl}${p}`, { method, body }), { status: 401, code: 'invalid_admin_token' });
    assertOpenAIError(await request(`${adminUrl}${p}`, { method, body, headers: { authorization: 'Bearer wrong-token' } }),
      { status: 401, code: 'invalid_admin_token' });
  }
  // Nothing was created by the refused POSTs.
  const list = await api('/admin/keys');
  assert.ok(!list.json.keys.some((k) => k.name === 'nope'));
});

test('create → use → listed without secret → revoke → the next request is 401', async () => {
  const created = await createKey({ team: 't2', name: 'ci-bot', models: ['fast'], expires: '30d' });
  const k = created.json;
  assert.match(k.key, /^wk-[A-Za-z0-9_-]{20,}$/);
  assert.match(k.id, /^vk_[0-9a-f]+$/);
  assert.equal(k.team, 't2');
  assert.equal(k.name, 'ci-bot');
  assert.deepEqual(k.models, ['fast']);
  assert.equal(k.status, 'active');
  assert.equal(k.source, 'store');
  assert.deepEqual(k.rate_limits, { rpm: 120, tpm: 50000, concurrency: 3 });
  const expires = Date.parse(k.expires_at);
  assert.ok(Math.abs(expires - (Date.now() + 30 * 86400e3)) < 120e3, `expires_at ${k.expires_at} is ~30 days out`);
  assert.equal(created.headers.location, `/admin/keys/${k.id}`);
  assert.equal(created.headers['cache-control'], 'no-store');

  // Works at once, through the whole pipeline to the upstream.
  const before = fake.chatRequests().length;
  const ok = await chat(k.key);
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.json.choices[0].message.content, 'hello from upstream');
  assert.equal(fake.chatRequests().length, before + 1);
  // The key's model scope applies.
  assertOpenAIError(await chat(k.key, 'pro'), { status: 403, code: 'model_not_allowed' });

  // Listed (and fetched) without the secret or its hash.
  const list = await api('/admin/keys');
  assert.equal(list.status, 200, list.text);
  const listed = list.json.keys.find((x) => x.id === k.id);
  assert.ok(listed, `key ${k.id} listed: ${list.text}`);
  assert.equal(listed.status, 'active');
  assert.equal(listed.revoked_at, null);
  assert.ok(!('key' in listed));
  for (const text of [list.text, (await api(`/admin/keys/${k.id}`)).text]) {
    assert.ok(!text.includes(k.key), 'no secret in the listing');
    assert.ok(!text.includes(sha256Hex(k.key)), 'no hash in the listing');
  }
  const one = await api(`/admin/keys/${k.id}`);
  assert.equal(one.status, 200);
  assert.equal(one.json.name, 'ci-bot');
  // Config keys are listed read-only, also without hashes.
  const k1 = list.json.keys.find((x) => x.id === 'k1');
  assert.equal(k1.source, 'config');
  assert.equal(k1.team, 't1');
  assert.ok(!list.text.includes(sha256Hex('sk-warden-test-hashed-51be20')));
  // ?team= filters.
  const t1only = await api('/admin/keys?team=t1');
  assert.ok(t1only.json.keys.length >= 1);
  assert.ok(t1only.json.keys.every((x) => x.team === 't1'));

  // Revoke: the very next request with the key is refused.
  const del = await api(`/admin/keys/${k.id}`, { method: 'DELETE' });
  assert.equal(del.status, 200, del.text);
  assert.equal(del.json.status, 'revoked');
  assert.ok(del.json.revoked_at);
  const refused = await chat(k.key);
  assertOpenAIError(refused, { status: 401, code: 'invalid_api_key' });
  assert.equal(fake.chatRequests().length, before + 1, 'the refused request never reached the upstream');
  assert.equal((await api(`/admin/keys/${k.id}`)).json.status, 'revoked');
  // Revoking again: the key is no longer active.
  assertOpenAIError(await api(`/admin/keys/${k.id}`, { method: 'DELETE' }), { status: 409, code: 'key_not_active' });
});

test('rotate: a new key for the same team/name/models, the old one stops working', async () => {
  const old = (await createKey({ team: 't1', name: 'rotating', models: 'fast, pro' })).json;
  assert.deepEqual(old.models, ['fast', 'pro']);
  assert.equal(old.expires_at, null);
  assert.equal((await chat(old.key)).status, 200);
  const res = await api(`/admin/keys/${old.id}/rotate`, { method: 'POST' });
  assert.equal(res.status, 201, res.text);
  secrets.push(res.json.key);
  const fresh = res.json;
  assert.notEqual(fresh.id, old.id);
  assert.notEqual(fresh.key, old.key);
  assert.equal(fresh.rotated_from, old.id);
  assert.equal(fresh.team, 't1');
  assert.equal(fresh.name, 'rotating');
  assert.deepEqual(fresh.models, ['fast', 'pro']);
  assertOpenAIError(await chat(old.key), { status: 401, code: 'invalid_api_key' });
  assert.equal((await chat(fresh.key, 'pro')).status, 200);
  const oldView = (await api(`/admin/keys/${old.id}`)).json;
  assert.equal(oldView.status, 'rotated');
  assert.equal(oldView.rotated_to, fresh.id);
  assertOpenAIError(await api(`/admin/keys/${old.id}/rotate`, { method: 'POST' }), { status: 409, code: 'key_not_active' });
});

test('bad bodies are 400 with the admin error shape; nothing is created', async () => {
  const count = async () => (await api('/admin/keys')).json.keys.length;
  const n = await count();
  const bad = [
    ['not json', '{"team":'],
    ['empty body', ''],
    ['an array', [{ team: 't1', name: 'x' }]],
    ['missing team', { name: 'x' }],
    ['missing name', { team: 't1' }],
    ['team not a string', { team: 7, name: 'x' }],
    ['empty name', { team: 't1', name: '' }],
    ['unknown team', { team: 'nobody', name: 'x' }],
    ['unknown alias', { team: 't1', name: 'x', models: ['gpt-9'] }],
    ['models not strings', { team: 't1', name: 'x', models: [1] }],
    ['bad expiry', { team: 't1', name: 'x', expires: 'tomorrow' }],
    ['expiry in the past', { team: 't1', name: 'x', expires: '2001-01-01' }],
    ['unknown field', { team: 't1', name: 'x', expiry: '30d' }],
    ['name too long', { team: 't1', name: 'n'.repeat(201) }],
  ];
  for (const [what, body] of bad) {
    const res = await api('/admin/keys', { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    assert.equal(res.status, 400, `${what}: ${res.status} ${res.text}`);
    assertOpenAIError(res, { status: 400, code: 'invalid_request' });
  }
  const unknownTeam = await api('/admin/keys', { method: 'POST', body: { team: 'nobody', name: 'x' } });
  assert.match(unknownTeam.json.error.message, /nobody/);
  const unknownField = await api('/admin/keys', { method: 'POST', body: { team: 't1', name: 'x', expiry: '30d' } });
  assert.match(unknownField.json.error.message, /expiry/);
  assert.equal(await count(), n);
});

test('unknown ids are 404, config keys cannot be revoked here, wrong methods are 405', async () => {
  assertOpenAIError(await api('/admin/keys/vk_000000000000'), { status: 404, code: 'key_not_found' });
  assertOpenAIError(await api('/admin/keys/vk_000000000000', { method: 'DELETE' }), { status: 404, code: 'key_not_found' });
  assertOpenAIError(await api('/admin/keys/vk_000000000000/rotate', { method: 'POST' }), { status: 404, code: 'key_not_found' });
  assertOpenAIError(await api('/admin/keys/k1', { method: 'DELETE' }), { status: 409, code: 'config_managed_key' });
  assert.equal((await chat('sk-warden-test-caller-7f3a9c')).status, 200, 'config key k1 still works');
  assert.equal((await api('/admin/keys/k1')).json.source, 'config');
  assertOpenAIError(await api('/admin/keys/vk_1/frobnicate', { method: 'POST' }), { status: 404 });
  assertOpenAIError(await api('/admin/keys/vk_1', { method: 'PUT', body: {} }), { status: 405 });
  assertOpenAIError(await api('/admin/keys/vk_1', { method: 'POST', body: {} }), { status: 405 });
});

test('the CLI and the API share one store', async () => {
  const stateDir = path.join(warden.dir, 'var');
  const cli = await runWarden(['keys', 'create', '--team', 't1', '--name', 'from-cli', '--json', '--config', warden.configPath]);
  assert.equal(cli.code, 0, cli.stderr);
  const made = JSON.parse(cli.stdout);
  secrets.push(made.key);
  const listed = (await api('/admin/keys')).json.keys.find((x) => x.id === made.id);
  assert.equal(listed?.name, 'from-cli');
  assert.equal((await chat(made.key)).status, 200);
  assert.equal((await api(`/admin/keys/${made.id}`, { method: 'DELETE' })).status, 200);
  assertOpenAIError(await chat(made.key), { status: 401, code: 'invalid_api_key' });
  const list = await runWarden(['keys', 'list', '--json', '--state-dir', stateDir]);
  assert.equal(list.code, 0, list.stderr);
  assert.equal(JSON.parse(list.stdout).find((x) => x.id === made.id).status, 'revoked');
  // The CLI applies the same validation as POST /admin/keys.
  const bad = await runWarden(['keys', 'create', '--team', 'nobody', '--name', 'x', '--config', warden.configPath]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /team 'nobody' is not defined/);
});

test('every key mutation is in the audit log (chain verifies), never a key', async () => {
  const file = path.join(warden.dir, 'var', 'audit.jsonl');
  const records = await eventually(() => {
    if (!fs.existsSync(file)) return null;
    const rows = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const admin = rows.filter((r) => r.type === 'admin');
    // The last mutation of the earlier tests: the second successful revoke.
    return admin.filter((r) => r.action === 'keys.revoke' && r.status === 200).length >= 2 ? admin : null;
  }, { what: 'admin audit records' });
  const ok = (action, status) => records.filter((r) => r.action === action && r.status === status);
  assert.ok(ok('keys.create', 201).length >= 2, JSON.stringify(records));
  assert.ok(ok('keys.create', 400).length >= 10, 'refused creates are recorded too');
  assert.ok(ok('keys.revoke', 200).length >= 2);
  assert.ok(ok('keys.revoke', 409).length >= 1);
  assert.ok(ok('keys.revoke', 404).length >= 1);
  assert.equal(ok('keys.rotate', 201).length, 1);
  for (const r of ok('keys.create', 201)) assert.match(r.key_id, /^vk_/);
  for (const r of records) assert.ok(r.request_id, 'each record names its request');
  const text = fs.readFileSync(file, 'utf8');
  for (const s of secrets) {
    assert.ok(!text.includes(s), 'no key in the audit log');
    assert.ok(!text.includes(sha256Hex(s)), 'no key hash in the audit log');
  }
  const verify = await runWarden(['audit', 'verify', file]);
  assert.equal(verify.code, 0, verify.stdout + verify.stderr);
});

test('no key ever reaches the logs', () => {
  assert.ok(secrets.length >= 3);
  assertLogsClean(warden.logs(), [...secrets, ADMIN_TOKEN]);
  assert.match(warden.logs(), /admin: revoked key vk_/);
});
