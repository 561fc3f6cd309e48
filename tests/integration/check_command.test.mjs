// `warden check FILE`: exit 0 on a good file; on a bad one print `file:line:col: message`
// for every error and exit 1.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import { runWarden, tempDir } from '../support/warden.mjs';

let dir;
before(() => { dir = tempDir('warden-check-'); });

const good = `providers:
  up:
    type: openai
    base_url: http://127.0.0.1:9
    api_key: sk-check-test
models:
  fast:
    targets:
      - provider: up
        model: deepseek-v4-flash
`;

function write(name, text) {
  const p = path.join(dir, name);
  fs.writeFileSync(p, text);
  return p;
}

async function check(name, text, env = {}) {
  const file = write(name, text);
  const r = await runWarden(['check', file], { env: { WARDEN_TEST_SURELY_UNSET_VAR: '', ...env } });
  const out = r.stdout + r.stderr;
  const esc = file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const errors = [...out.matchAll(new RegExp(`^${esc}:(\\d+):(\\d+): (.+)$`, 'gm'))]
    .map((m) => ({ line: Number(m[1]), col: Number(m[2]), message: m[3] }));
  return { ...r, out, errors };
}

test('a valid file: exit 0', async () => {
  const r = await check('good.yaml', good);
  assert.equal(r.code, 0, r.out);
  assert.equal(r.errors.length, 0);
});

test('unknown key: file:line:col with a did-you-mean, exit 1', async () => {
  const r = await check('typo.yaml', good.replace('    base_url:', '    base_ur:'));
  assert.equal(r.code, 1, r.out);
  const e = r.errors.find((x) => x.line === 4);
  assert.ok(e, `an error on line 4:\n${r.out}`);
  assert.equal(e.col, 5);
  assert.match(e.message, /base_ur\b/);
  assert.match(e.message, /did you mean/i);
  assert.match(e.message, /base_url/);
});

test('wrong type: points at the line of the bad value', async () => {
  const r = await check('type.yaml', `server:\n  limits:\n    max_body_bytes: lots\n${good}`);
  assert.equal(r.code, 1, r.out);
  const e = r.errors.find((x) => x.line === 3);
  assert.ok(e, `an error on line 3:\n${r.out}`);
  assert.ok([5, 21].includes(e.col), `column of key or value, got ${e.col}`);
  assert.match(e.message, /max_body_bytes/);
});

test('model target naming a missing provider', async () => {
  const r = await check('missing.yaml', good.replace('provider: up', 'provider: nope'));
  assert.equal(r.code, 1, r.out);
  const e = r.errors.find((x) => x.line === 9);
  assert.ok(e, `an error on line 9:\n${r.out}`);
  assert.match(e.message, /nope/);
});

test('${VAR} that is not set', async () => {
  const r = await check('var.yaml', good.replace('api_key: sk-check-test', 'api_key: ${WARDEN_TEST_SURELY_UNSET_VAR_2}'));
  assert.equal(r.code, 1, r.out);
  const e = r.errors.find((x) => x.line === 5);
  assert.ok(e, `an error on line 5:\n${r.out}`);
  assert.match(e.message, /WARDEN_TEST_SURELY_UNSET_VAR_2/);
});

test('${VAR} that is set: fine, and its value is not printed', async () => {
  const r = await check('var-ok.yaml', good.replace('api_key: sk-check-test', 'api_key: ${WARDEN_TEST_CHECK_KEY}'), { WARDEN_TEST_CHECK_KEY: 'sk-secret-from-env-77' });
  assert.equal(r.code, 0, r.out);
  assert.ok(!r.out.includes('sk-secret-from-env-77'));
});

test('every error is reported, not just the first', async () => {
  const text = good.replace('    base_url:', '    base_ur:').replace('provider: up', 'provider: nope');
  const r = await check('many.yaml', text);
  assert.equal(r.code, 1, r.out);
  const lines = r.errors.map((x) => x.line);
  assert.ok(lines.includes(4) && lines.includes(9), `errors on lines 4 and 9:\n${r.out}`);
});

test('YAML syntax error: file:line:col, exit 1', async () => {
  const r = await check('syntax.yaml', `${good}routing: {retries: [1, 2}\n`);
  assert.equal(r.code, 1, r.out);
  assert.ok(r.errors.length >= 1, r.out);
  assert.ok(r.errors.every((e) => e.line >= 11), r.out);
});

test('missing file: exit 1 with the file name', async () => {
  const missing = path.join(dir, 'does-not-exist.yaml');
  const r = await runWarden(['check', missing]);
  assert.equal(r.code, 1);
  assert.ok((r.stdout + r.stderr).includes(missing));
});
