// configs/enterprise.yaml documents every option: it must pass `warden check`, and every
// key the config reader accepts (src/config/sections/*.cpp) must appear in it.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { runWarden, sourceDir } from '../support/warden.mjs';

const file = path.join(sourceDir, 'configs', 'enterprise.yaml');
const env = {
  WARDEN_ADMIN_TOKEN: 'dummy-admin-token',
  DEEPSEEK_API_KEY: 'dummy-deepseek',
  ANTHROPIC_API_KEY: 'dummy-anthropic',
  WARDEN_CI_KEY: 'dummy-ci-key',
};

test('warden check configs/enterprise.yaml passes', async () => {
  const r = await runWarden(['check', file], { env });
  assert.equal(r.code, 0, r.stdout + r.stderr);
});

test('without its env vars the check names the missing variable (the file really uses ${VAR})', async () => {
  const { WARDEN_CI_KEY, ...rest } = env;
  const r = await runWarden(['check', file], { env: rest });
  assert.notEqual(r.code, 0);
  assert.match(r.stdout + r.stderr, /WARDEN_CI_KEY/);
});

test('every option the config reader accepts is in enterprise.yaml', () => {
  const yaml = fs.readFileSync(file, 'utf8');
  const dir = path.join(sourceDir, 'src', 'config', 'sections');
  const names = new Set();
  for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.cpp'))) {
    const src = fs.readFileSync(path.join(dir, f), 'utf8');
    for (const m of src.matchAll(/\.(?:str|integer|boolean|number|choice|str_list|str_map|num_list|json|map|has|get)\("([a-z_0-9]+)"/g)) names.add(m[1]);
  }
  assert.ok(names.size > 60, `found only ${names.size} option names; did the reader change shape?`);
  const missing = [...names].filter((n) => !new RegExp(`(^|[\\s{,])${n}:`, 'm').test(yaml));
  assert.deepEqual(missing, [], `options missing from configs/enterprise.yaml: ${missing.join(', ')}`);
});
