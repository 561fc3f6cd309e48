// Observability through a real warden: /metrics on the admin listener moves with traffic
// (requests, tokens, cost, latency and GenAI histograms), every request leaves one row in
// state_dir/usage.db (read with Python's sqlite3), and `warden usage report` and
// GET /admin/usage total them.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { reply, startFakeUpstream } from '../support/fake_upstream.mjs';
import { eventually, openStream, postChat, request } from '../support/http.mjs';
import { CALLER_KEY_2, makeConfig, runWarden, startWarden } from '../support/warden.mjs';

const ADMIN_TOKEN = 'admin-token-observability-5d1e';
const adminAuth = { authorization: `Bearer ${ADMIN_TOKEN}` };
// USD per 1M tokens; round numbers so the expected cost is plain arithmetic.
const PRICES = { input_cache_hit: 1, input_cache_miss: 2, output: 4 };
const usage = {
  prompt_tokens: 1000, completion_tokens: 500, total_tokens: 1500,
  prompt_cache_hit_tokens: 400, prompt_cache_miss_tokens: 600,
  prompt_tokens_details: { cached_tokens: 400 },
  completion_tokens_details: { reasoning_tokens: 100 },
};
const costPerRequest = (400 * 1 + 600 * 2 + 500 * 4) / 1e6;

let fake;
let warden;
let adminUrl;
const answers = [];  // { requestId, alias, key, status }

before(async () => {
  fake = await startFakeUpstream();
  fake.setDefault(reply.chat({ usage }));
  warden = await startWarden(makeConfig({
    upstream: fake,
    server: { admin_listen: '127.0.0.1:0', admin_token: ADMIN_TOKEN },
    extra: { pricing: { 'deepseek-v4-flash': PRICES, 'deepseek-v4-pro': PRICES } },
  }));
  await eventually(() => /admin listening on/.test(warden.logs()), { what: 'admin listener log line' });
  const m = /admin listening on (\S+):(\d+)/.exec(warden.logs());
  assert.ok(m, `admin address in logs:\n${warden.logs()}`);
  adminUrl = `http://127.0.0.1:${m[2]}`;
});
after(async () => {
  await warden?.stop();
  await fake?.close();
});

async function scrape() {
  const res = await request(`${adminUrl}/metrics`, { headers: adminAuth });
  assert.equal(res.status, 200, res.text);
  assert.match(res.headers['content-type'], /^text\/plain/);
  return res.text;
}

// Value of one sample line given the metric name and its labels in rendered order.
function sample(text, series) {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

test('/metrics needs the admin token', async () => {
  const res = await request(`${adminUrl}/metrics`);
  assert.equal(res.status, 401);
});

test('traffic moves request, token, cost, latency and GenAI series', async () => {
  for (let i = 0; i < 3; i++) {
    const res = await postChat(warden.url, { model: 'fast', messages: [{ role: 'user', content: `hi ${i}` }] });
    assert.equal(res.status, 200, res.text);
    answers.push({ requestId: res.headers['x-request-id'], alias: 'fast', key: 'k1', status: 200 });
  }
  for (let i = 0; i < 2; i++) {
    const h = openStream(`${warden.url}/v1/chat/completions`, {
      model: 'pro', stream: true, messages: [{ role: 'user', content: 'stream please' }],
    }, { headers: { authorization: `Bearer ${CALLER_KEY_2}` } });
    await h.ready;
    assert.equal(h.status, 200);
    await h.done;
    answers.push({ requestId: h.headers['x-request-id'], alias: 'pro', key: 'k2', status: 200 });
  }
  fake.enqueue(reply.error(500, 'upstream exploded', { type: 'server_error' }));
  const failed = await postChat(warden.url, { model: 'fast', messages: [{ role: 'user', content: 'fail' }] });
  assert.ok(failed.status >= 500, failed.text);
  answers.push({ requestId: failed.headers['x-request-id'], alias: 'fast', key: 'k1', status: failed.status });

  const text = await scrape();
  const fast = 'alias="fast",team="t1",target="up/deepseek-v4-flash"';
  const pro = 'alias="pro",team="t1",target="up/deepseek-v4-pro"';
  assert.equal(sample(text, `warden_requests_total{${fast},status="200"}`), 3);
  assert.equal(sample(text, `warden_requests_total{${pro},status="200"}`), 2);
  assert.equal(sample(text, `warden_requests_total{${fast},status="${failed.status}"}`), 1);
  assert.equal(sample(text, `warden_tokens_total{${fast},type="prompt"}`), 3000);
  assert.equal(sample(text, `warden_tokens_total{${fast},type="cache_hit"}`), 1200);
  assert.equal(sample(text, `warden_tokens_total{${fast},type="completion"}`), 1500);
  assert.equal(sample(text, `warden_tokens_total{${fast},type="reasoning"}`), 300);
  assert.equal(sample(text, `warden_tokens_total{${pro},type="prompt"}`), 2000);
  assert.ok(Math.abs(sample(text, `warden_cost_usd_total{${fast}}`) - 3 * costPerRequest) < 1e-9, text.split("\n").filter((l) => l.includes("cost")).join("\n"));
  assert.ok(Math.abs(sample(text, `warden_cost_usd_total{${pro}}`) - 2 * costPerRequest) < 1e-9);
  assert.equal(sample(text, 'warden_request_duration_seconds_count{alias="fast",target="up/deepseek-v4-flash"}'), 4);
  assert.equal(sample(text, 'warden_request_duration_seconds_bucket{alias="fast",target="up/deepseek-v4-flash",le="+Inf"}'), 4);
  assert.equal(sample(text, 'warden_time_to_first_token_seconds_count{alias="pro",target="up/deepseek-v4-pro"}'), 2);
  assert.equal(sample(text, 'warden_active_streams'), 0);
  const upErr = text.split('\n').filter((l) => l.startsWith('warden_upstream_errors_total{target="up/deepseek-v4-flash"'));
  assert.equal(upErr.length, 1, upErr.join('\n'));
  assert.match(upErr[0], /status="500"} 1$/);
  const g = 'gen_ai_operation_name="chat",gen_ai_provider_name="up",gen_ai_request_model="fast",gen_ai_response_model="deepseek-v4-flash"';
  assert.equal(sample(text, `gen_ai_client_token_usage_count{${g},gen_ai_token_type="input"}`), 3);
  assert.equal(sample(text, `gen_ai_client_token_usage_sum{${g},gen_ai_token_type="output"}`), 1500);
  assert.equal(sample(text, `gen_ai_client_operation_duration_count{${g}}`), 3);
  assert.match(text, /# TYPE gen_ai_client_operation_time_to_first_chunk histogram/);
  assert.equal(sample(text, 'warden_breaker_state{target="up/deepseek-v4-flash"}'), 0);
});

test('GET /admin/usage totals the ledger by team and by key', async () => {
  const res = await request(`${adminUrl}/admin/usage?by=key`, { headers: adminAuth });
  assert.equal(res.status, 200, res.text);
  const byKey = Object.fromEntries(res.json.groups.map((g) => [g.name, g]));
  assert.equal(byKey.k1.requests, 4);
  assert.equal(byKey.k1.errors, 1);
  assert.equal(byKey.k2.requests, 2);
  assert.equal(byKey.k2.prompt_tokens, 2000);
  assert.equal(res.json.total.requests, 6);
  assert.ok(Math.abs(res.json.total.cost_usd - 5 * costPerRequest) < 1e-9);
  const bad = await request(`${adminUrl}/admin/usage?by=planet`, { headers: adminAuth });
  assert.equal(bad.status, 400);
  const future = await request(`${adminUrl}/admin/usage?by=team&from=2999-01-01`, { headers: adminAuth });
  assert.deepEqual(future.json.groups, []);
});

test('GET /admin/routes lists aliases and their targets', async () => {
  const res = await request(`${adminUrl}/admin/routes`, { headers: adminAuth });
  assert.equal(res.status, 200, res.text);
  const fast = res.json.routes.find((r) => r.alias === 'fast');
  assert.deepEqual(fast.targets.map((t) => t.target), ['up/deepseek-v4-flash']);
});

test('ledger rows match the requests; `warden usage report` totals them after shutdown', async () => {
  await warden.stop();
  const stateDir = path.join(warden.dir, 'var');
  const rows = JSON.parse(execFileSync('/usr/bin/python3', ['-c', `
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
cols = ['request_id','key_id','team','alias','target','prompt_tokens','cache_hit_tokens','completion_tokens','reasoning_tokens','cost_usd','latency_ms','ttft_ms','status','stream']
print(json.dumps([dict(zip(cols, r)) for r in db.execute('SELECT ' + ','.join(cols) + ' FROM usage ORDER BY ts_ms')]))
`, path.join(stateDir, 'usage.db')]).toString());
  assert.equal(rows.length, answers.length);
  for (const a of answers) {
    const row = rows.find((r) => r.request_id === a.requestId);
    assert.ok(row, `ledger row for ${a.requestId}`);
    assert.equal(row.key_id, a.key);
    assert.equal(row.team, 't1');
    assert.equal(row.alias, a.alias);
    assert.equal(row.status, a.status);
    assert.ok(row.latency_ms > 0);
    if (a.status === 200) {
      assert.equal(row.prompt_tokens, 1000);
      assert.equal(row.cache_hit_tokens, 400);
      assert.equal(row.completion_tokens, 500);
      assert.equal(row.reasoning_tokens, 100);
      assert.ok(Math.abs(row.cost_usd - costPerRequest) < 1e-12);
      assert.ok(row.ttft_ms >= 0 && row.ttft_ms <= row.latency_ms);
    }
  }
  assert.equal(rows.filter((r) => r.stream === 1).length, 2);

  const json = await runWarden(['usage', 'report', '--by', 'model', '--format', 'json', '--state-dir', stateDir]);
  assert.equal(json.code, 0, json.stderr);
  const report = JSON.parse(json.stdout);
  const byModel = Object.fromEntries(report.groups.map((g) => [g.name, g]));
  assert.equal(byModel['up/deepseek-v4-flash'].requests, 4);
  assert.equal(byModel['up/deepseek-v4-pro'].requests, 2);
  assert.equal(report.total.completion_tokens, 2500);

  const today = new Date().toISOString().slice(0, 10);
  const csv = await runWarden(['usage', 'report', '--by', 'team', '--format', 'csv', '--from', today, '--to', today,
    '-c', warden.configPath]);
  assert.equal(csv.code, 0, csv.stderr);
  const lines = csv.stdout.trim().split('\n');
  assert.equal(lines[0], 'team,requests,errors,prompt_tokens,cache_hit_tokens,completion_tokens,reasoning_tokens,cost_usd');
  assert.equal(lines[1], `"t1",6,1,5000,2000,2500,500,${(5 * costPerRequest).toFixed(6)}`);

  const table = await runWarden(['usage', 'report', '--state-dir', stateDir]);
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /^team\s+requests/);
  assert.match(table.stdout, /TOTAL\s+6\s+1\s+5000/);

  const bad = await runWarden(['usage', 'report', '--by', 'planet', '--state-dir', stateDir]);
  assert.equal(bad.code, 2);
});
