// Issue 14 items 2, 3, 4, 5, 8 and 10 through a real `warden serve`: no policy hole opens
// silently. A key of an undefined team is never unrestricted; an invalid guardrails
// regex is a config error (and a reload with one keeps the old rules); an empty config
// never replaces a serving one; every end-user id reaches the upstream only as the keyed
// hash; the budget refusal status is what the docs say; one state_dir, one server, and
// its SQLite files are private.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { anthropicMessage } from '../support/fault_upstream.mjs';
import { reply, startFakeUpstream } from '../support/fake_upstream.mjs';
import { auth, eventually, postChat, request } from '../support/http.mjs';
import {
  CALLER_KEY, makeConfig, PROVIDER_KEY, runWarden, sourceDir, startWarden, tempDir, yamlDocument,
} from '../support/warden.mjs';

let fake;
before(async () => { fake = await startFakeUpstream(); });
after(async () => { await fake?.close(); });

const ask = (content, extra = {}) => ({ model: 'fast', messages: [{ role: 'user', content }], ...extra });

// `warden check` on YAML text: exit code and the file:line:col diagnostics.
async function check(text) {
  const dir = tempDir('warden-trust-check-');
  const file = path.join(dir, 'warden.yaml');
  fs.writeFileSync(file, text);
  const r = await runWarden(['check', file]);
  const out = r.stdout + r.stderr;
  const esc = file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const errors = [...out.matchAll(new RegExp(`^${esc}:(\\d+):(\\d+): (.+)$`, 'gm'))]
    .map((m) => ({ line: Number(m[1]), col: Number(m[2]), message: m[3] }));
  return { code: r.code, out, errors };
}

const base = `providers:
  up: {type: openai, base_url: "http://127.0.0.1:9", api_key: x}
models:
  fast:
    targets: [{provider: up, model: deepseek-v4-flash}]
teams:
  platform: {}
`;

// Rewrites the served config and SIGHUPs; resolves once the reload was logged (ok or not).
async function reload(warden, text) {
  const mark = warden.logs().length;
  fs.writeFileSync(warden.configPath, text);
  warden.proc.kill('SIGHUP');
  await eventually(() => /config reload(ed| \(sighup\) failed)/.test(warden.logs().slice(mark)),
    { timeoutMs: 5000, what: 'a reload log line' });
  return warden.logs().slice(mark);
}

describe('item 3: a key whose team is not defined is never unrestricted', () => {
  test('YAML: a key naming an undefined team, or none, is a config error at its line', async () => {
    const r = await check(`${base}keys:
  - {id: typo, team: platfrom, key: abc}
  - {id: none, key: def}
`);
    assert.equal(r.code, 1, r.out);
    const typo = r.errors.find((e) => /keys\.typo\.team: 'platfrom' is not defined in teams/.test(e.message));
    assert.ok(typo, r.out);
    assert.equal(typo.line, 9);
    assert.match(typo.message, /did you mean 'platform'/);
    assert.ok(r.errors.some((e) => e.line === 10 && /keys\.none\.team: required/.test(e.message)), r.out);
  });

  test('`keys create` refuses an unknown team, and refuses to guess without the config', async () => {
    const dir = tempDir('warden-trust-keys-');
    const cfgPath = path.join(dir, 'warden.yaml');
    fs.writeFileSync(cfgPath, `state_dir: ${JSON.stringify(path.join(dir, 'var'))}\n${base}`);
    const typo = await runWarden(['keys', 'create', '-c', cfgPath, '--team', 'typo', '--name', 'x']);
    assert.equal(typo.code, 1, typo.stderr);
    assert.match(typo.stderr, /team 'typo' is not defined/);
    const blind = await runWarden(['keys', 'create', '--state-dir', path.join(dir, 'var'), '--team', 'typo', '--name', 'x']);
    assert.equal(blind.code, 2, blind.stderr);
    assert.match(blind.stderr, /--config FILE is required/);
    const list = await runWarden(['keys', 'list', '--state-dir', path.join(dir, 'var'), '--json']);
    assert.deepEqual(JSON.parse(list.stdout), [], 'nothing was stored');
  });

  test('a stored key whose team a reload removed is refused 403 team_not_configured', async () => {
    const cfg = makeConfig({ upstream: fake, extra: { teams: { t1: {}, t2: { models: ['fast'] } } } });
    const warden = await startWarden(cfg);
    try {
      const created = await runWarden(['keys', 'create', '-c', warden.configPath, '--team', 't2', '--name', 'n', '--json']);
      assert.equal(created.code, 0, created.stderr);
      const key = JSON.parse(created.stdout).key;
      fake.reset();
      assert.equal((await postChat(warden.url, ask('hi'), { headers: auth(key) })).status, 200);
      // t2 is gone: its key must not fall back to "no team = no restrictions".
      const next = structuredClone(cfg);
      delete next.teams.t2;
      const logs = await reload(warden, yamlDocument({ state_dir: path.join(warden.dir, 'var'), ...next }));
      assert.match(logs, /config reloaded/);
      fake.reset();
      for (const model of ['fast', 'pro']) {
        const res = await postChat(warden.url, ask('hi', { model }), { headers: auth(key) });
        assert.equal(res.status, 403, res.text);
        assert.equal(res.json.error.code, 'team_not_configured');
        assert.match(res.json.error.message, /'t2'/);
      }
      const anth = await request(`${warden.url}/anthropic/v1/messages`, {
        method: 'POST', headers: { 'x-api-key': key },
        body: { model: 'fast', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] },
      });
      assert.equal(anth.status, 403, anth.text);
      assert.equal(anth.json.error.code, 'team_not_configured');
      assert.equal(fake.chatRequests().length, 0, 'nothing reached the upstream');
    } finally {
      await warden.stop();
    }
  });
});

describe('items 2 and 5: invalid regexes and empty files are config errors; the old config keeps serving', () => {
  const regexCfg = (regex) => `${base}keys:
  - {id: k1, team: platform, key: ${JSON.stringify(CALLER_KEY)}}
guardrails:
  blocked_terms: [project-zeus]
  blocked_regex:
    - 'secret-[0-9]+'
    - ${JSON.stringify(regex)}
`;

  test('`warden check` names the invalid blocked_regex by file:line:col', async () => {
    for (const bad of ['(unclosed', 'a*', '[z-a]']) {
      const r = await check(regexCfg(bad));
      assert.equal(r.code, 1, `${bad}: ${r.out}`);
      assert.equal(r.errors.length, 1, r.out);
      assert.equal(r.errors[0].line, 14, r.out);
      assert.match(r.errors[0].message, /guardrails\.blocked_regex\[1\]: not a valid regular expression/);
    }
    assert.equal((await check(regexCfg('ok-[a-z]+'))).code, 0);
  });

  test('empty and comment-only files are rejected by check', async () => {
    for (const text of ['', '\n\n', '# nothing here\n# at all\n', '---\n']) {
      const r = await check(text);
      assert.equal(r.code, 1, JSON.stringify(text) + r.out);
      assert.match(r.out, /the config is empty/);
    }
  });

  test('a reload with an invalid regex or an empty file keeps the running rules and keys', async () => {
    const warden = await startWarden(makeConfig({
      upstream: fake,
      extra: { guardrails: { blocked_terms: ['project-zeus'], blocked_regex: ['secret-[0-9]+'] } },
    }));
    try {
      const blocked = async () => {
        fake.reset();
        for (const text of ['about project-zeus', 'code secret-42']) {
          const res = await postChat(warden.url, ask(text));
          assert.equal(res.status, 400, res.text);
          assert.equal(res.json.error.code, 'content_blocked');
        }
        assert.equal((await postChat(warden.url, ask('harmless'))).status, 200);
        assert.equal(fake.chatRequests().length, 1);
      };
      await blocked();
      const yaml = fs.readFileSync(warden.configPath, 'utf8');
      const broken = yaml.replace('"secret-[0-9]+"', '"(unclosed"');
      assert.notEqual(broken, yaml);
      for (const text of [broken, '', '# emptied by a half-saved edit\n']) {
        const logs = await reload(warden, text);
        assert.match(logs, /failed/);
        assert.doesNotMatch(logs, /config reloaded/);
        await blocked();
      }
      assert.equal(warden.exit, null);
    } finally {
      await warden.stop();
    }
  });
});

describe('item 4: end-user ids reach the upstream only as the keyed hash', () => {
  let warden;
  let ant;
  before(async () => {
    ant = await startFakeUpstream();
    const cfg = makeConfig({ upstream: fake });
    cfg.providers.claude = { type: 'anthropic', base_url: ant.url, api_key: PROVIDER_KEY };
    cfg.models.claude = { targets: [{ provider: 'claude', model: 'claude-up' }] };
    warden = await startWarden(cfg);
  });
  after(async () => {
    await warden?.stop();
    await ant?.close();
  });

  const HASH = /^u_[A-Za-z0-9_-]{22}$/;

  test('OpenAI user / user_id / safety_identifier and Anthropic metadata.user_id: one hash, as DeepSeek user_id', async () => {
    const seen = [];
    const send = async (body) => {
      fake.reset();
      const res = await postChat(warden.url, body);
      assert.equal(res.status, 200, res.text);
      return fake.chatRequests()[0];
    };
    for (const field of ['user', 'user_id', 'safety_identifier']) {
      const up = await send(ask('hi', { [field]: 'alice@corp.example', metadata: { user_id: 'alice@corp.example', tag: 'x' } }));
      assert.match(up.json.user_id, HASH, up.rawBody);
      assert.equal(up.json.user, undefined);
      assert.equal(up.json.safety_identifier, undefined);
      assert.equal(up.json.metadata, undefined, 'the caller metadata is not forwarded');
      assert.ok(!up.rawBody.includes('alice'), up.rawBody);
      seen.push(up.json.user_id);
    }
    fake.reset();
    const res = await request(`${warden.url}/anthropic/v1/messages`, {
      method: 'POST', headers: { 'x-api-key': CALLER_KEY },
      body: { model: 'fast', max_tokens: 8, metadata: { user_id: 'alice@corp.example' }, messages: [{ role: 'user', content: 'hi' }] },
    });
    assert.equal(res.status, 200, res.text);
    const up = fake.chatRequests()[0];
    assert.ok(!up.rawBody.includes('alice'), up.rawBody);
    seen.push(up.json.user_id);
    assert.equal(new Set(seen).size, 1, `the same person hashes the same everywhere: ${seen}`);
  });

  test('an OpenAI caller to an Anthropic upstream: metadata carries only the hash', async () => {
    ant.reset();
    ant.setDefault(reply.json(anthropicMessage()));
    const res = await postChat(warden.url, { model: 'claude', messages: [{ role: 'user', content: 'hi' }],
      user: 'bob', metadata: { user_id: 'bob', team: 'secret-team' } });
    assert.equal(res.status, 200, res.text);
    const up = ant.requests.find((r) => r.path.endsWith('/v1/messages'));
    assert.deepEqual(Object.keys(up.json.metadata), ['user_id']);
    assert.match(up.json.metadata.user_id, HASH);
    assert.ok(!up.rawBody.includes('bob') && !up.rawBody.includes('secret-team'), up.rawBody);
  });
});

describe('item 8: the budget refusal status is the documented one', () => {
  test('code, docs/configuration.md and configs/enterprise.yaml agree', async () => {
    const yaml = fs.readFileSync(path.join(sourceDir, 'configs/enterprise.yaml'), 'utf8');
    const docs = fs.readFileSync(path.join(sourceDir, 'docs/configuration.md'), 'utf8');
    const fromYaml = [...yaml.matchAll(/refuse with (\d{3}) budget_exceeded/g)].map((m) => Number(m[1]));
    const fromDocs = [...docs.matchAll(/(\d{3}) `budget_exceeded`/g)].map((m) => Number(m[1]));
    const table = [...docs.matchAll(/^\| (\d{3}) \| `budget_exceeded` \|/gm)].map((m) => Number(m[1]));
    assert.ok(fromYaml.length >= 1 && fromDocs.length >= 1 && table.length === 1, 'the status is documented');
    const documented = new Set([...fromYaml, ...fromDocs, ...table]);
    assert.equal(documented.size, 1, `one status everywhere: ${[...documented]}`);

    const warden = await startWarden(makeConfig({
      upstream: fake, extra: { teams: { t1: { budget: { tokens_per_day: 50, mode: 'hard' } } } },
    }));
    try {
      fake.reset();
      const res = await postChat(warden.url, ask('hi', { max_tokens: 100 }));
      assert.equal(res.json?.error?.code, 'budget_exceeded', res.text);
      assert.equal(res.status, [...documented][0]);
      const anth = await request(`${warden.url}/anthropic/v1/messages`, {
        method: 'POST', headers: { 'x-api-key': CALLER_KEY },
        body: { model: 'fast', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] },
      });
      assert.equal(anth.status, [...documented][0], anth.text);
      assert.equal(fake.chatRequests().length, 0);
    } finally {
      await warden.stop();
    }
  });
});

describe('item 10: one server per state_dir; private SQLite files', () => {
  test('a second serve on the same state_dir exits with a clear message; the first keeps serving', async () => {
    const cfg = makeConfig({ upstream: fake, extra: { teams: { t1: { budget: { tokens_per_day: 100000 } } } } });
    const first = await startWarden(cfg);
    try {
      const yaml = fs.readFileSync(first.configPath, 'utf8');
      const stateDir = /^state_dir: "(.*)"$/m.exec(yaml)[1];
      await assert.rejects(startWarden(yaml, { startTimeoutMs: 10000 }), (e) => {
        assert.match(e.message, /warden exited early \(\{"code":1/);
        assert.match(e.message, /state_dir .* is in use by another warden \(pid \d+\)/);
        return true;
      });
      fake.reset();
      assert.equal((await postChat(first.url, ask('hi'))).status, 200, 'the first server is untouched');
      const created = await runWarden(['keys', 'create', '-c', first.configPath, '--team', 't1', '--name', 'n']);
      assert.equal(created.code, 0, 'CLI verbs still work beside a server');
      const dbFiles = fs.readdirSync(stateDir).filter((f) => /\.db(-wal|-shm)?$/.test(f));
      for (const want of ['warden.db', 'usage.db']) assert.ok(dbFiles.includes(want), `${want} in ${dbFiles}`);
      for (const f of dbFiles) {
        const mode = fs.statSync(path.join(stateDir, f)).mode & 0o777;
        assert.equal(mode.toString(8), '600', `${f} mode`);
      }
    } finally {
      await first.stop();
    }
  });
});
