// Start a real `warden serve` on a loopback port 0 with a config written to a temp dir,
// capture its logs, and clean it up. Also: a tiny YAML emitter and a config builder.
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const sourceDir = process.env.WARDEN_SOURCE_DIR
  ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export function wardenBinary() {
  const bin = process.env.WARDEN_BINARY ?? path.join(sourceDir, 'build/warden');
  if (!fs.existsSync(bin)) throw new Error(`warden binary not found at ${bin} (set WARDEN_BINARY)`);
  return bin;
}

// Every process we start is killed when the test process exits, whatever happens.
const live = new Set();
process.on('exit', () => { for (const p of live) { try { p.kill('SIGKILL'); } catch { /* gone */ } } });

export function tempDir(prefix = 'warden-test-') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export const sha256Hex = (s) => crypto.createHash('sha256').update(s).digest('hex');

// ---- YAML ------------------------------------------------------------------------------
// Block-style YAML for plain objects/arrays/scalars; strings are double-quoted (JSON
// escapes are valid YAML double-quoted escapes), so no value can change meaning.
function scalar(v) {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  return String(v);
}

export function toYaml(value, indent = '') {
  if (Array.isArray(value)) {
    if (value.length === 0) return ' []';
    return value.map((item) => {
      if (item && typeof item === 'object' && !Array.isArray(item) && Object.keys(item).length) {
        const body = toYaml(item, `${indent}  `).replace(/^\n\s*/, '');
        return `\n${indent}- ${body}`;
      }
      return `\n${indent}-${toYaml(item, `${indent}  `)}`;
    }).join('');
  }
  if (value && typeof value === 'object') {
    const keys = Object.keys(value);
    if (keys.length === 0) return ' {}';
    return keys.map((k) => `\n${indent}${k}:${toYaml(value[k], `${indent}  `)}`).join('');
  }
  return ` ${scalar(value)}`;
}

export const yamlDocument = (obj) => `${toYaml(obj).replace(/^\n/, '')}\n`;

// ---- config ----------------------------------------------------------------------------
export const CALLER_KEY = 'sk-warden-test-caller-7f3a9c';
export const CALLER_KEY_2 = 'sk-warden-test-hashed-51be20';
export const PROVIDER_KEY = 'sk-upstream-provider-secret-c0ffee';

// The usual test config: one provider `up` at the fake upstream, aliases `fast`
// (deepseek-v4-flash) and `pro` (deepseek-v4-pro), a plain key and a sha256 key.
// Pass overrides to replace whole sections; provider options merge into `up`.
// Retries and the circuit breaker are off by default (one attempt, breaker never
// opens): these suites test the proxy path, and each scripted failure must reach the
// client as it is; router behaviour has its own tests. Pass `routing` to change that.
export const NO_RETRIES = { retries: { max_attempts: 1 }, circuit_breaker: { failures: 1000000 } };
export function makeConfig({ upstream, caFile, timeouts, provider = {}, models, keys, server, routing = NO_RETRIES, extra = {} } = {}) {
  const up = { type: 'openai', base_url: upstream.url, api_key: PROVIDER_KEY };
  if (caFile) up.ca_file = caFile;
  if (timeouts) up.timeouts = timeouts;
  Object.assign(up, provider);
  const keyList = keys ?? [
    { id: 'k1', team: 't1', key: CALLER_KEY },
    { id: 'k2', team: 't1', sha256: sha256Hex(CALLER_KEY_2) },
  ];
  return {
    ...(server ? { server } : {}),
    providers: { up },
    models: models ?? {
      fast: { targets: [{ provider: 'up', model: 'deepseek-v4-flash' }] },
      pro: { targets: [{ provider: 'up', model: 'deepseek-v4-pro' }] },
    },
    keys: keyList,
    ...(routing ? { routing } : {}),
    ...extra,
    // A key's team must be defined (an undefined team is a config error): every team a
    // key names exists, unrestricted unless `extra.teams` says more.
    teams: { ...Object.fromEntries(keyList.filter((k) => k.team).map((k) => [k.team, {}])), ...(extra.teams ?? {}) },
  };
}

// ---- process ---------------------------------------------------------------------------
// Start `warden serve -c <tmp>/warden.yaml --listen 127.0.0.1:0`; resolves once it has
// logged its startup lines (`listening on HOST:PORT`, `admin listening on …` when there
// is an admin listener, then `… config generation N`; output may arrive split across
// reads, so waiting for the last line is what makes the admin address reliable).
// config: object (emitted as YAML) or YAML text.
export async function startWarden(config, { env = {}, args = [], startTimeoutMs = 15000 } = {}) {
  const dir = tempDir('warden-serve-');
  const cfg = typeof config === 'string' ? config : yamlDocument({ state_dir: path.join(dir, 'var'), ...config });
  const configPath = path.join(dir, 'warden.yaml');
  fs.writeFileSync(configPath, cfg);
  const proc = spawn(wardenBinary(), ['serve', '-c', configPath, '--listen', '127.0.0.1:0', ...args], {
    cwd: dir, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(proc);
  let logs = '';
  let exit = null;
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => {
    live.delete(proc);
    exit = { code, signal };
    resolve(exit);
  }));
  proc.stdout.on('data', (d) => { logs += d; });
  proc.stderr.on('data', (d) => { logs += d; });

  const listening = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`warden did not log "listening on" within ${startTimeoutMs} ms`)), startTimeoutMs);
    const onData = () => {
      const m = /(?<!admin )listening on (\S+):(\d+)/.exec(logs);
      if (!m || !/config generation \d+/.test(logs)) return;
      const admin = /admin listening on (\S+):(\d+)/.exec(logs);
      done(null, { host: m[1], port: Number(m[2]), adminUrl: admin ? `http://127.0.0.1:${admin[2]}` : undefined });
    };
    function done(err, v) {
      clearTimeout(timer);
      proc.stdout.off('data', onData);
      proc.stderr.off('data', onData);
      if (err) { proc.kill('SIGKILL'); reject(new Error(`${err.message}\n--- config ---\n${cfg}\n--- logs ---\n${logs}`)); } else resolve(v);
    }
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    exited.then((e) => done(new Error(`warden exited early (${JSON.stringify(e)})`)));
    onData();
  });

  const w = {
    ...listening,
    url: `http://127.0.0.1:${listening.port}`,
    dir, configPath, proc, exited,
    get exit() { return exit; },
    logs: () => logs,
    // Send a signal and wait for exit (SIGKILL after timeoutMs).
    async stop(signal = 'SIGTERM', timeoutMs = 10000) {
      if (exit) return exit;
      proc.kill(signal);
      const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
      const e = await exited;
      clearTimeout(timer);
      return e;
    },
  };
  return w;
}

// Run a one-shot warden command (check, keys, ...) and collect its output.
export function runWarden(args, { env = {}, cwd, timeoutMs = 20000 } = {}) {
  return new Promise((resolve, reject) => {
    const proc = spawn(wardenBinary(), args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(proc);
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d) => { stdout += d; });
    proc.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`warden ${args.join(' ')} timed out`)); }, timeoutMs);
    proc.on('exit', (code, signal) => {
      clearTimeout(timer);
      live.delete(proc);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

// A random-weight tiny Qwen2 (Qwen vocabulary) written by `warden model make-tiny`, served
// by a warden whose only model `tiny` is a local provider on the CPU. `provider` adds to
// or overrides the provider's settings. Returns { warden, modelDir }.
export async function startTinyLocal({ seed = 5, provider = {} } = {}) {
  const modelDir = path.join(tempDir('warden-tiny-local-'), 'tiny');
  const made = await runWarden(['model', 'make-tiny', '--arch', 'qwen2', '--out', modelDir, '--seed', String(seed)],
    { timeoutMs: 120000 });
  if (made.code !== 0) throw new Error(`make-tiny failed: ${made.stderr}`);
  const warden = await startWarden({
    providers: { local: { type: 'local', model_dir: modelDir, device: 'cpu', max_num_seqs: 2, kv_cache: { num_blocks: 64 }, ...provider } },
    models: { tiny: { targets: [{ provider: 'local', model: 'tiny' }] } },
    teams: { t1: {} },  // a key's team must be defined
    keys: [{ id: 'k1', team: 't1', key: CALLER_KEY }],
  }, { startTimeoutMs: 60000 });
  return { warden, modelDir };
}
