// Added latency of the Anthropic translation path (Anthropic in → OpenAI-format upstream)
// next to the plain OpenAI proxy path, through the same warden to the same fake upstream.
// Sequential requests (c=1) over keep-alive connections; reports p50/p90/mean per row.
// Not a test: run by bench/gateway/anthropic.sh.
import { reply, startFakeUpstream } from '../../tests/support/fake_upstream.mjs';
import { CALLER_KEY, makeConfig, startWarden } from '../../tests/support/warden.mjs';
import { agent, measure, printRows, WARMUP_REQUESTS as WARMUP } from './sequential_latency.mjs';

const N = Number(process.env.BENCH_REQUESTS ?? 400);

const fake = await startFakeUpstream();
fake.setDefault(reply.chat({ content: ['Hello', ' from', ' the', ' bench', ' upstream.'] }));
const warden = await startWarden(makeConfig({ upstream: fake }));
const bearer = { authorization: `Bearer ${CALLER_KEY}` };
const xkey = { 'x-api-key': CALLER_KEY, 'anthropic-version': '2023-06-01' };
const openai = (stream) => ({ model: 'fast', stream, messages: [{ role: 'user', content: 'Say hello.' }] });
const anth = (stream) => ({ model: 'fast', max_tokens: 256, stream, messages: [{ role: 'user', content: 'Say hello.' }] });

const rows = [];
rows.push(await measure('direct upstream (json)', `${fake.url}/v1/chat/completions`, {}, { ...openai(false), model: 'deepseek-v4-flash' }, N));
rows.push(await measure('warden OpenAI → OpenAI (json)', `${warden.url}/v1/chat/completions`, bearer, openai(false), N));
rows.push(await measure('warden Anthropic → OpenAI (json)', `${warden.url}/anthropic/v1/messages`, xkey, anth(false), N));
rows.push(await measure('direct upstream (sse)', `${fake.url}/v1/chat/completions`, {}, { ...openai(true), model: 'deepseek-v4-flash' }, N));
rows.push(await measure('warden OpenAI → OpenAI (sse)', `${warden.url}/v1/chat/completions`, bearer, openai(true), N));
rows.push(await measure('warden Anthropic → OpenAI (sse)', `${warden.url}/anthropic/v1/messages`, xkey, anth(true), N));
await warden.stop();
await fake.close();
agent.destroy();

printRows(rows);
const d = (a, b) => (rows[b].p50 - rows[a].p50) / 1000;
console.log(`\nTranslation cost at p50: json ${d(1, 2).toFixed(2)} ms, sse ${d(4, 5).toFixed(2)} ms (Anthropic route minus OpenAI route); ` +
  `proxy cost at p50: json ${d(0, 1).toFixed(2)} ms, sse ${d(3, 4).toFixed(2)} ms (OpenAI route minus direct).`);
console.log(`N=${N} sequential requests per row after ${WARMUP} warm-up, one keep-alive connection, node client, fake upstream in the same node process.`);
