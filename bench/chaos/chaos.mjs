// Chaos run (issue 15): load against a real `warden serve` whose upstream misbehaves (500s,
// 429s, resets mid-stream, hangs), callers that abandon requests, and warden killed with
// SIGKILL several times and restarted on the same state_dir. Then it checks:
//   - `warden audit verify` passes over every audit file;
//   - ledger rows == audit request records (same request ids);
//   - every request a caller saw answered 2xx in full before the kill was decided is in the
//     ledger with a 2xx status;
//   - the hard budget was never exceeded, and budget spend >= the ledger's tokens;
//   - after the last (unkilled) round: no leaked in-flight count (warden_target_in_flight,
//     server in-flight), budget reservations or rate-limit concurrency slots.
// Bounded: ROUNDS x ROUND_MS of load (defaults 5 x 4000 ms). Prints a JSON summary; exits 1
// when a check fails.
//   WARDEN_BINARY=build/dev/warden node bench/chaos/chaos.mjs [--rounds N] [--round-ms MS]
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { chunk, deferred, reply, startFakeUpstream } from '../../tests/support/fake_upstream.mjs';
import { auth, request } from '../../tests/support/http.mjs';
import { makeConfig, runWarden, startWarden, tempDir } from '../../tests/support/warden.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const ROUNDS = arg('rounds', 5);
const ROUND_MS = arg('round-ms', 4000);
const CLIENTS = arg('clients', 16);
const TEAM_CONCURRENCY = 12;
const TOKENS_PER_DAY = arg('budget-tokens', 25 * 600);  // ~600 answered requests' worth
// Usage the fake reports: within what warden reserves (prompt upper bound + max_tokens), as
// a real upstream's is; a fake reporting more than the request can use would overshoot any
// estimate-based hard budget.
const USAGE = { prompt_tokens: 5, completion_tokens: 20, total_tokens: 25 };
const ADMIN_TOKEN = 'admin-token-chaos-5d0c';

let seed = arg('seed', 42);
const rand = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };

// ---- the faulty upstream ---------------------------------------------------------------
const fake = await startFakeUpstream();
const faults = { ok: 0, e500: 0, e429: 0, reset: 0, hang: 0, slow: 0 };
fake.setDefault(async (ctx) => {
  const r = rand();
  if (r < 0.08) { faults.e500++; return reply.error(500, 'chaos 500', { type: 'server_error' })(ctx); }
  if (r < 0.16) { faults.e429++; return reply.error(429, 'chaos 429', { type: 'rate_limit_error', headers: { 'retry-after-ms': '5' } })(ctx); }
  const req = ctx.record.json ?? {};
  if (r < 0.24 && req.stream) {
    faults.reset++;
    return reply.stream([chunk.role(req.model), chunk.content('partial', req.model), { reset: true }])(ctx);
  }
  if (r < 0.28) { faults.hang++; return reply.hang()(ctx); }
  if (r < 0.36) { faults.slow++; return reply.chat({ content: ['slow', ' answer'], delayMs: 30, usage: USAGE })(ctx); }
  faults.ok++;
  return reply.chat({ usage: USAGE })(ctx);
});

// ---- warden ----------------------------------------------------------------------------
const stateDir = path.join(tempDir('warden-chaos-'), 'var');
const config = {
  state_dir: stateDir,
  ...makeConfig({
    upstream: fake,
    timeouts: { connect_ms: 1000, first_byte_ms: 300, idle_ms: 300, total_ms: 5000 },
    server: { admin_listen: '127.0.0.1:0', admin_token: ADMIN_TOKEN },
    routing: { retries: { max_attempts: 2, base_ms: 1, max_ms: 10 }, circuit_breaker: { failures: 30, window_s: 5, open_s: 1 } },
    extra: {
      audit: { file: 'audit.jsonl', max_bytes: 200000 },
      teams: { t1: { rate_limits: { concurrency: TEAM_CONCURRENCY }, budget: { tokens_per_day: TOKENS_PER_DAY } } },
    },
  }),
};
const adminGet = async (w, p) => request(`${w.adminUrl}${p}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });

// ---- callers ---------------------------------------------------------------------------
const answered = new Map();  // request id → status, for answers read in full
const outcomes = { ok2xx: 0, status: {}, aborted: 0, failed: 0 };
let nextId = 0;
function one(w, signalStop) {
  return new Promise((resolve) => {
    const id = `chaos-${String(nextId++).padStart(6, '0')}`;
    const stream = rand() < 0.5;
    const abortAfter = rand() < 0.1 ? Math.floor(rand() * 200) : -1;
    const body = JSON.stringify({ model: 'fast', stream, max_tokens: 100, messages: [{ role: 'user', content: id }] });
    const req = http.request(`${w.url}/v1/chat/completions`, {
      method: 'POST', agent: false,
      headers: { ...auth(), 'x-request-id': id, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => {
        clearTimeout(timer);
        outcomes.status[res.statusCode] = (outcomes.status[res.statusCode] ?? 0) + 1;
        const complete = !stream || text.includes('data: [DONE]');
        if (res.statusCode >= 200 && res.statusCode < 300 && complete && !signalStop.killed) {
          answered.set(id, res.statusCode);
          outcomes.ok2xx++;
        }
        resolve();
      });
      res.on('error', () => { clearTimeout(timer); outcomes.failed++; resolve(); });
    });
    const timer = abortAfter >= 0 ? setTimeout(() => { outcomes.aborted++; req.destroy(); }, abortAfter) : null;
    req.on('error', () => { clearTimeout(timer); outcomes.failed++; resolve(); });
    req.end(body);
  });
}

async function load(w, ms, killAt) {
  const state = { killed: false };
  const until = Date.now() + ms;
  const workers = Array.from({ length: CLIENTS }, async () => {
    while (Date.now() < until && !state.killed) await one(w, state);
  });
  let killed = false;
  if (killAt !== undefined) {
    await new Promise((r) => setTimeout(r, killAt));
    // Decided now: answers completed from here on are not counted as "answered before the kill".
    state.killed = true;
    w.proc.kill('SIGKILL');
    await w.exited;
    killed = true;
  }
  await Promise.all(workers);
  return killed;
}

// ---- the run ---------------------------------------------------------------------------
const kills = [];
let w;
for (let round = 1; round <= ROUNDS; round++) {
  w = await startWarden(config);
  const last = round === ROUNDS;
  const killAt = last ? undefined : Math.floor(ROUND_MS * (0.5 + rand() * 0.5));
  await load(w, ROUND_MS, killAt);
  if (!last) kills.push({ round, at_ms: killAt });
}

// Leak checks on the last process (never killed): nothing in flight once the load is over.
const checks = {};
const failures = [];
const check = (name, ok, detail) => { checks[name] = ok ? 'ok' : `FAIL ${detail ?? ''}`; if (!ok) failures.push(name); };
const metricsText = (await adminGet(w, '/metrics')).text;
const inflight = [...metricsText.matchAll(/^warden_target_in_flight\{[^}]*\} (\S+)$/gm)].map((m) => Number(m[1]));
check('target_in_flight_zero', inflight.length > 0 && inflight.every((v) => v === 0), JSON.stringify(inflight));
const teams = (await adminGet(w, '/admin/teams')).json;
const t1 = teams.teams.find((t) => t.team === 't1');
check('budget_reservations_zero', t1.used.tokens_per_day.reserved === 0, JSON.stringify(t1.used));
// Budget before the probes below spend more: committed spend of the UTC day, from warden.db.
const day = new Date().toISOString().slice(0, 10);
const spendOf = () => Number(execFileSync('sqlite3', [path.join(stateDir, 'warden.db'),
  `SELECT COALESCE(SUM(tokens),0) FROM spend WHERE scope='team:t1' AND period='${day}'`], { encoding: 'utf8' }).trim());
const budgetAfterLoad = spendOf();

// Every concurrency slot free: TEAM_CONCURRENCY simultaneous requests held at the upstream
// are all admitted (a leaked slot would make one of them a 429 rate_limited). The budget is
// spent by now: raise it by a reload so the probes get past it.
fs.writeFileSync(w.configPath, fs.readFileSync(w.configPath, 'utf8').replace(`tokens_per_day: ${TOKENS_PER_DAY}`, 'tokens_per_day: 1000000000'));
const reloadsBefore = (w.logs().match(/config reloaded/g) ?? []).length;
w.proc.kill('SIGHUP');
for (let i = 0; i < 500 && (w.logs().match(/config reloaded/g) ?? []).length === reloadsBefore; i++) await new Promise((r) => setTimeout(r, 20));
const gate = deferred();
const held = [];
for (let i = 0; i < TEAM_CONCURRENCY; i++) {
  fake.enqueue(async (ctx) => { await gate.promise; return reply.chat({ usage: USAGE })(ctx); });
}
const before = fake.chatRequests().length;
const probes = Array.from({ length: TEAM_CONCURRENCY }, (_, i) => request(`${w.url}/v1/chat/completions`, {
  method: 'POST', headers: { ...auth(), 'x-request-id': `chaos-probe-${i}` }, timeoutMs: 30000,
  body: { model: 'fast', max_tokens: 1, messages: [{ role: 'user', content: 'probe' }] },
}));
held.push(...probes);
try {
  await fake.waitFor(() => fake.chatRequests().length - before >= TEAM_CONCURRENCY, 10000, 'all probes upstream');
  check('rate_limit_slots_free', true);
} catch (e) {
  check('rate_limit_slots_free', false, e.message);
}
gate.resolve();
const probeStatus = (await Promise.all(held)).map((r) => r.status);
await w.stop('SIGTERM');

// Audit chain.
const auditFiles = fs.readdirSync(stateDir).filter((f) => /^audit\.jsonl(\.\d+)?$/.test(f))
  .sort((a, b) => (Number(a.split('.')[2] ?? 1e9) - Number(b.split('.')[2] ?? 1e9)))
  .map((f) => path.join(stateDir, f));
const verify = await runWarden(['audit', 'verify', ...auditFiles]);
check('audit_verify', verify.code === 0, verify.stdout + verify.stderr);
const auditIds = new Map();
for (const f of auditFiles) {
  for (const line of fs.readFileSync(f, 'utf8').split('\n')) {
    if (!line) continue;
    const r = JSON.parse(line);
    if (r.type === 'request' && r.request_id.startsWith('chaos-')) auditIds.set(r.request_id, r.status);
  }
}

// Ledger: open it the way warden does (replaying its journal) by starting once more.
const final = await startWarden(config);
await final.stop('SIGTERM');
const rows = execFileSync('sqlite3', [path.join(stateDir, 'usage.db'),
  "SELECT request_id, status, prompt_tokens + completion_tokens FROM usage WHERE request_id LIKE 'chaos-%'"], { encoding: 'utf8' })
  .split('\n').filter(Boolean).map((l) => l.split('|'));
const ledgerIds = new Map(rows.map(([id, status]) => [id, Number(status)]));
const ledgerTokens = rows.reduce((n, r) => n + Number(r[2]), 0);
const onlyAudit = [...auditIds.keys()].filter((id) => !ledgerIds.has(id));
const onlyLedger = [...ledgerIds.keys()].filter((id) => !auditIds.has(id));
check('ledger_equals_audit', onlyAudit.length === 0 && onlyLedger.length === 0,
  `only in audit: ${onlyAudit.slice(0, 5)} (${onlyAudit.length}); only in ledger: ${onlyLedger.slice(0, 5)} (${onlyLedger.length})`);
const missing = [...answered.keys()].filter((id) => !(ledgerIds.get(id) >= 200 && ledgerIds.get(id) < 300));
check('answered_2xx_in_ledger', missing.length === 0, `${missing.length} missing: ${missing.slice(0, 5)}`);
const ledger2xx = [...ledgerIds.values()].filter((s) => s >= 200 && s < 300).length;

const budgetTokens = budgetAfterLoad;
const probeTokens = spendOf() - budgetAfterLoad;
check('budget_not_exceeded', budgetTokens <= TOKENS_PER_DAY, `${budgetTokens} > ${TOKENS_PER_DAY}`);
check('budget_covers_ledger', budgetTokens + probeTokens >= ledgerTokens, `budget ${budgetTokens}+${probeTokens} < ledger ${ledgerTokens}`);

const summary = {
  rounds: ROUNDS, round_ms: ROUND_MS, clients: CLIENTS, kills, faults, outcomes,
  answered_2xx_before_kills: answered.size, ledger_rows: ledgerIds.size, ledger_2xx: ledger2xx, audit_records: auditIds.size,
  ledger_tokens: ledgerTokens, budget_tokens: budgetTokens, budget_limit: TOKENS_PER_DAY,
  probe_status: probeStatus.join(','), probe_tokens: probeTokens, audit_files: auditFiles.length, checks,
};
console.log(JSON.stringify(summary, null, 2));
await fake.close();
process.exit(failures.length ? 1 : 0);
