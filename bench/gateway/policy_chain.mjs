// Added latency of the full policy chain (config key auth, team rate limits, hard budget with
// pricing, DLP redact on a ~2 KB prompt holding an email and a phone number, guardrail terms,
// audit trail on) next to the bare proxy, through two wardens to the same fake upstream.
// Sequential requests (c=1) over keep-alive connections. Not a test: run by policy_chain.sh.
import http from 'node:http';
import { reply, startFakeUpstream } from '../../tests/support/fake_upstream.mjs';
import { CALLER_KEY, makeConfig, startWarden } from '../../tests/support/warden.mjs';

const N = Number(process.env.BENCH_REQUESTS ?? 400);
const WARMUP = 50;
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function post(url, headers, body) {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(body);
    const t0 = process.hrtime.bigint();
    const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data), ...headers } }, (res) => {
      res.on('data', () => {});
      res.on('end', () => (res.statusCode === 200 ? resolve(Number(process.hrtime.bigint() - t0) / 1e3) : reject(new Error(`HTTP ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(data);
  });
}

async function measure(name, url, headers, body) {
  for (let i = 0; i < WARMUP; i++) await post(url, headers, body);
  const us = [];
  for (let i = 0; i < N; i++) us.push(await post(url, headers, body));
  us.sort((a, b) => a - b);
  const pct = (p) => us[Math.min(us.length - 1, Math.floor(us.length * p))];
  return { name, p50: pct(0.5), p90: pct(0.9), mean: us.reduce((a, b) => a + b, 0) / us.length };
}

// ~2 KB of ordinary prose with one email and one phone number for DLP to redact.
const sentence = 'The quarterly review covers shipping delays, vendor onboarding and the new support rota. ';
let prompt = '';
while (prompt.length < 1900) prompt += sentence;
prompt += 'Reach me at jane.doe@example.com or +1 415 555 0100 after the meeting.';

const fake = await startFakeUpstream();
fake.setDefault(reply.chat({ content: ['Noted', ', I will', ' follow up.'] }));
const bare = await startWarden(makeConfig({ upstream: fake }));
const full = await startWarden(makeConfig({
  upstream: fake,
  extra: {
    pricing: { 'deepseek-v4-flash': { input_cache_hit: 0.0028, input_cache_miss: 0.14, output: 0.28 } },
    teams: { t1: {
      models: ['fast'],
      rate_limits: { rpm: 1000000, tpm: 1000000000, concurrency: 64 },
      budget: { usd_per_month: 1000000, tokens_per_day: 1000000000, mode: 'hard' },
      dlp: { email: 'redact', phone: 'redact', credit_card: 'block', secrets: 'block' },
    } },
    guardrails: { blocked_terms: ['forbidden-project-name'] },
    audit: { file: 'audit.jsonl', fsync: 'batch' },
  },
}));
const bearer = { authorization: `Bearer ${CALLER_KEY}` };
const body = (stream) => ({ model: 'fast', stream, max_tokens: 256, messages: [{ role: 'user', content: prompt }] });

const rows = [];
rows.push(await measure('direct upstream (json)', `${fake.url}/v1/chat/completions`, {}, { ...body(false), model: 'deepseek-v4-flash' }));
rows.push(await measure('warden bare proxy (json)', `${bare.url}/v1/chat/completions`, bearer, body(false)));
rows.push(await measure('warden full policy chain (json)', `${full.url}/v1/chat/completions`, bearer, body(false)));
rows.push(await measure('direct upstream (sse)', `${fake.url}/v1/chat/completions`, {}, { ...body(true), model: 'deepseek-v4-flash' }));
rows.push(await measure('warden bare proxy (sse)', `${bare.url}/v1/chat/completions`, bearer, body(true)));
rows.push(await measure('warden full policy chain (sse)', `${full.url}/v1/chat/completions`, bearer, body(true)));
const redacted = fake.requests.some((r) => (r.rawBody ?? '').includes('<EMAIL_1>'));
await bare.stop();
await full.stop();
await fake.close();
agent.destroy();

const f = (us) => (us / 1000).toFixed(2);
console.log(`| path | p50 ms | p90 ms | mean ms |`);
console.log(`|---|---:|---:|---:|`);
for (const r of rows) console.log(`| ${r.name} | ${f(r.p50)} | ${f(r.p90)} | ${f(r.mean)} |`);
const d = (a, b) => (rows[b].p50 - rows[a].p50) / 1000;
console.log(`\nPolicy chain cost at p50: json ${d(1, 2).toFixed(2)} ms, sse ${d(4, 5).toFixed(2)} ms (full minus bare); ` +
  `bare proxy cost at p50: json ${d(0, 1).toFixed(2)} ms, sse ${d(3, 4).toFixed(2)} ms (bare minus direct). ` +
  `DLP placeholders seen upstream: ${redacted}.`);
console.log(`N=${N} sequential requests per row after ${WARMUP} warm-up, one keep-alive connection, node client, fake upstream in the same node process.`);
