// The CLI answers a new operator: `warden --version` names version, commit, build type and
// whether CUDA is in; every command listed by `warden --help` answers `--help` itself with
// a usage line and exit 0 (not "unknown option").
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { runWarden } from '../support/warden.mjs';

test('warden --version: version, the source commit, build type, CUDA yes/no', async () => {
  const res = await runWarden(['--version']);
  assert.equal(res.code, 0, res.stderr);
  const m = res.stdout.match(/^warden (\d+\.\d+\.\d+) \(commit (\S+), (\S+) build, CUDA (yes|no)/);
  assert.ok(m, res.stdout);
  // The commit the binary was built from is a real commit of this source tree (HEAD may
  // have moved on since the build; a tree without git says unknown).
  let git = true;
  try {
    execFileSync('git', ['-C', process.env.WARDEN_SOURCE_DIR, 'rev-parse', 'HEAD'], { stdio: 'ignore' });
  } catch { git = false; }
  if (git) {
    const hash = m[2].replace(/-dirty$/, '');
    assert.match(hash, /^[0-9a-f]{7,}$/);
    const type = execFileSync('git', ['-C', process.env.WARDEN_SOURCE_DIR, 'cat-file', '-t', hash]).toString().trim();
    assert.equal(type, 'commit');
  } else {
    assert.equal(m[2], 'unknown');
  }
  assert.equal((await runWarden(['version'])).stdout, res.stdout);
});

test('every command answers --help with a usage line and exit 0', async () => {
  const help = await runWarden(['--help']);
  assert.equal(help.code, 0);
  const verbs = [...help.stdout.matchAll(/^ {2}warden ([a-z-]+)/gm)].map((x) => x[1]).filter((v) => !v.startsWith('-'));
  assert.ok(verbs.length >= 8, help.stdout);
  for (const verb of verbs) {
    for (const flag of ['--help', '-h']) {
      const res = await runWarden([verb, flag]);
      assert.equal(res.code, 0, `${verb} ${flag}: ${res.stderr}`);
      assert.match(res.stdout + res.stderr, /usage: warden/, `${verb} ${flag}`);
      assert.doesNotMatch(res.stderr, /unknown option/, `${verb} ${flag}`);
    }
  }
});
