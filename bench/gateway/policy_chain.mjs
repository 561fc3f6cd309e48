// Added latency of the full policy chain (config key auth, team rate limits, hard budget with
// pricing, DLP redact on a ~2 KB prompt holding an email and a phone number, guardrail terms,
// audit trail on) next to the bare proxy, through two wardens to the same fake upstream.
// Sequential requests (c=1) over keep-alive connections. Not a test: run by policy_chain.sh.
import { reply, startFakeUpstream } from '../../tests/support/fake_upstream.mjs';
import { CALLER_KEY, makeConfig, startWarden } from '../../tests/support/warden.mjs';
import { agent, measure, printRows, WARMUP_REQUESTS as WARMUP } from './sequential_latency.mjs';

const N = Number(process.env.BENCH_REQUESTS ?? 400);

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
rows.push(await measure('direct upstream (json)', `${fake.url}/v1/chat/completions`, {}, { ...body(false), model: 'deepseek-v4-flash' }, N));
rows.push(await measure('warden bare proxy (json)', `${bare.url}/v1/chat/completions`, bearer, body(false), N));
rows.push(await measure('warden full policy chain (json)', `${full.url}/v1/chat/completions`, bearer, body(false), N));
rows.push(await measure('direct upstream (sse)', `${fake.url}/v1/chat/completions`, {}, { ...body(true), model: 'deepseek-v4-flash' }, N));
rows.push(await measure('warden bare proxy (sse)', `${bare.url}/v1/chat/completions`, bearer, body(true), N));
rows.push(await measure('warden full policy chain (sse)', `${full.url}/v1/chat/completions`, bearer, body(true), N));
const redacted = fake.requests.some((r) => (r.rawBody ?? '').includes('<EMAIL_1>'));
await bare.stop();
await full.stop();
await fake.close();
agent.destroy();

printRows(rows);
const d = (a, b) => (rows[b].p50 - rows[a].p50) / 1000;
console.log(`\nPolicy chain cost at p50: json ${d(1, 2).toFixed(2)} ms, sse ${d(4, 5).toFixed(2)} ms (full minus bare); ` +
  `bare proxy cost at p50: json ${d(0, 1).toFixed(2)} ms, sse ${d(3, 4).toFixed(2)} ms (bare minus direct). ` +
  `DLP placeholders seen upstream: ${redacted}.`);
console.log(`N=${N} sequential requests per row after ${WARMUP} warm-up, one keep-alive connection, node client, fake upstream in the same node process.`);
