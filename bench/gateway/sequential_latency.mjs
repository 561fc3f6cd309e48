// Shared by the c=1 latency benches: sequential POSTs over one keep-alive connection,
// with warm-up, reporting p50/p90/mean in microseconds.
import http from 'node:http';

export const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const WARMUP = 50;

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

export async function measure(name, url, headers, body, n) {
  for (let i = 0; i < WARMUP; i++) await post(url, headers, body);
  const us = [];
  for (let i = 0; i < n; i++) us.push(await post(url, headers, body));
  us.sort((a, b) => a - b);
  const pct = (p) => us[Math.min(us.length - 1, Math.floor(us.length * p))];
  return { name, p50: pct(0.5), p90: pct(0.9), mean: us.reduce((a, b) => a + b, 0) / us.length };
}

export function printRows(rows) {
  const f = (us) => (us / 1000).toFixed(2);
  console.log(`| path | p50 ms | p90 ms | mean ms |`);
  console.log(`|---|---:|---:|---:|`);
  for (const r of rows) console.log(`| ${r.name} | ${f(r.p50)} | ${f(r.p90)} | ${f(r.mean)} |`);
}

export const WARMUP_REQUESTS = WARMUP;
