// GET /admin/teams against a real warden and a real fake upstream: each team's budget,
// this period's spend and used ratio equal what GET /admin/usage totals for the same team
// and day and what /metrics exports as warden_budget_used_ratio; requests in flight show as
// reserved; crossing a soft budget serves the request, logs one warn line and counts
// warden_budget_soft_exceeded_total once.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { deferred, defaultUsage, reply, startFakeUpstream } from '../support/fake_upstream.mjs';
import { auth, eventually, postChat, request } from '../support/http.mjs';
import { makeConfig, startWarden } from '../support/warden.mjs';

const ADMIN_TOKEN = 'admin-token-teams-test-51f0aa';
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const KEY1 = 'sk-teams-test-t1-0b5d2e';
const KEY2 = 'sk-teams-test-t2-77c1a9';
const PRICE = { input_cache_hit: 1, input_cache_miss: 2, output: 4 };  // USD per 1M tokens
// What one request costs and weighs, from the fake's usage and the price table.
const TOKENS = defaultUsage.prompt_tokens + defaultUsage.completion_tokens;
const USD = (defaultUsage.prompt_cache_hit_tokens * PRICE.input_cache_hit +
  defaultUsage.prompt_cache_miss_tokens * PRICE.input_cache_miss + defaultUsage.completion_tokens * PRICE.output) / 1e6;
const T1_TOKENS_PER_DAY = 1000;  // soft: crossed by the 7th request (7 × 150 = 1050)
const T2_USD_PER_MONTH = 5;
const T2_TOKENS_PER_DAY = 1000000;

let fake;
let warden;
let adminUrl;

before(async () => {
  fake = await startFakeUpstream();
  fake.setDefault(reply.chat({ content: 'ok' }));
  warden = await startWarden(makeConfig({
    upstream: fake,
    server: { admin_listen: '127.0.0.1:0', admin_token: ADMIN_TOKEN },
    keys: [{ id: 'k1', team: 't1', key: KEY1 }, { id: 'k2', team: 't2', key: KEY2 }],
    extra: {
      pricing: { 'deepseek-v4-flash': PRICE },
      teams: {
        t1: {
          models: ['fast'],
          rate_limits: { rpm: 1000, tpm: 1000000, concurrency: 10 },
          budget: { tokens_per_day: T1_TOKENS_PER_DAY, mode: 'soft' },
        },
        t2: {
          budget: { usd_per_month: T2_USD_PER_MONTH, tokens_per_day: T2_TOKENS_PER_DAY, mode: 'hard', alert_at: [0.8] },
          key_rate_limits: { rpm: 60 },
        },
        t3: {},
      },
    },
  }));
  const m = await eventually(() => /admin listening on (\S+):(\d+)/.exec(warden.logs()), { what: 'admin listener' });
  adminUrl = `http://127.0.0.1:${m[2]}`;
});
after(async () => {
  await warden?.stop();
  await fake?.close();
});

const api = async (p) => {
  const res = await request(`${adminUrl}${p}`, { headers: admin });
  assert.equal(res.status, 200, `${p}: ${res.text}`);
  return res;
};
const teams = async () => (await api('/admin/teams')).json;
const team = async (name) => (await teams()).teams.find((t) => t.team === name);
const chat = (key) => postChat(warden.url, { model: 'fast', messages: [{ role: 'user', content: 'spend' }] }, { headers: auth(key) });

// The value of one Prometheus series, whatever the label order; undefined when absent.
async function metric(name, labels) {
  const text = (await api('/metrics')).text;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)\{(.*)\} (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries([...m[2].matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v) && Object.keys(got).length === Object.keys(labels).length) return Number(m[3]);
  }
  return undefined;
}

async function usageFor(teamName, day) {
  const u = (await api(`/admin/usage?by=team&from=${day}&to=${day}`)).json;
  return u.groups.find((g) => g.name === teamName);
}

const near = (a, b, what) => assert.ok(Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

test('every configured team is listed with its limits; nothing spent yet', async () => {
  const doc = await teams();
  assert.deepEqual(doc.teams.map((t) => t.team), ['t1', 't2', 't3']);
  assert.match(doc.day, /^\d{4}-\d{2}-\d{2}$/);
  assert.equal(doc.month, doc.day.slice(0, 7));
  assert.equal(doc.ledger_available, true);
  const [t1, t2, t3] = doc.teams;
  assert.deepEqual(t1.budget, { mode: 'soft', usd_per_month: 0, tokens_per_day: T1_TOKENS_PER_DAY, alert_at: [] });
  assert.deepEqual(t1.rate_limits, { rpm: 1000, tpm: 1000000, concurrency: 10 });
  assert.deepEqual(t1.models, ['fast']);
  assert.deepEqual(Object.keys(t1.used), ['tokens_per_day']);
  assert.deepEqual(t1.used.tokens_per_day, { period: doc.day, limit: T1_TOKENS_PER_DAY, used: 0, reserved: 0, used_ratio: 0, exceeded: false });
  assert.deepEqual(t2.budget, { mode: 'hard', usd_per_month: T2_USD_PER_MONTH, tokens_per_day: T2_TOKENS_PER_DAY, alert_at: [0.8] });
  assert.deepEqual(Object.keys(t2.used).sort(), ['tokens_per_day', 'usd_per_month']);
  assert.equal(t2.used.usd_per_month.period, doc.month);
  assert.deepEqual(t2.key_rate_limits, { rpm: 60, tpm: 0, concurrency: 0 });
  assert.equal(t3.budget, null);
  assert.deepEqual(t3.used, {});
  assert.deepEqual(t1.keys, { config: 1, virtual_active: 0 });
  assert.deepEqual(t3.keys, { config: 0, virtual_active: 0 });
  // The gauge exists from the first scrape, at 0; so does the soft-crossing counter.
  assert.equal(await metric('warden_budget_used_ratio', { team: 't1', dimension: 'tokens_per_day' }), 0);
  assert.equal(await metric('warden_budget_soft_exceeded_total', { team: 't1', dimension: 'tokens_per_day' }), 0);
  assert.equal(await metric('warden_budget_soft_exceeded_total', { team: 't2', dimension: 'usd_per_month' }), undefined,
    'no soft counter for a hard budget');
});

test('crossing a soft budget serves the request, counts once and logs one warn line', async () => {
  const crossings = () => (warden.logs().match(/soft budget exceeded: team t1 tokens_per_day/g) ?? []).length;
  for (let i = 1; i <= 6; i++) assert.equal((await chat(KEY1)).status, 200);
  await eventually(async () => (await team('t1')).used.tokens_per_day.used === 6 * TOKENS, { what: '6 requests settled' });
  assert.equal(await metric('warden_budget_soft_exceeded_total', { team: 't1', dimension: 'tokens_per_day' }), 0);
  assert.equal(crossings(), 0);

  const seventh = await chat(KEY1);  // 1050 > 1000
  assert.equal(seventh.status, 200, seventh.text);
  assert.equal(seventh.json.choices[0].message.content, 'ok');
  await eventually(async () => (await metric('warden_budget_soft_exceeded_total', { team: 't1', dimension: 'tokens_per_day' })) === 1,
    { what: 'soft crossing counted' });
  assert.equal((await chat(KEY1)).status, 200, 'still served after the crossing');
  await eventually(async () => (await team('t1')).used.tokens_per_day.used === 8 * TOKENS, { what: '8 requests settled' });
  assert.equal(await metric('warden_budget_soft_exceeded_total', { team: 't1', dimension: 'tokens_per_day' }), 1, 'once per crossing');
  assert.equal(crossings(), 1);
  const line = warden.logs().split('\n').find((l) => /soft budget exceeded/.test(l));
  assert.doesNotMatch(line, /spend/, 'no prompt text in the warn line');
  assert.doesNotMatch(line, new RegExp(KEY1));
});

test('/admin/teams spend == /admin/usage totals == the /metrics gauge', async () => {
  for (let i = 0; i < 3; i++) assert.equal((await chat(KEY2)).status, 200);
  await eventually(async () => (await team('t2')).used.tokens_per_day.used === 3 * TOKENS, { what: 't2 settled' });
  const doc = await teams();
  const t1 = doc.teams.find((t) => t.team === 't1');
  const t2 = doc.teams.find((t) => t.team === 't2');

  // Against the traffic sent (computed here from the fake's usage and the price table).
  assert.equal(t1.used.tokens_per_day.used, 8 * TOKENS);
  near(t1.used.tokens_per_day.used_ratio, (8 * TOKENS) / T1_TOKENS_PER_DAY, 't1 ratio');
  assert.equal(t1.used.tokens_per_day.exceeded, true);
  near(t1.spend.month.usd, 8 * USD, 't1 month usd');
  assert.equal(t2.spend.day.tokens, 3 * TOKENS);
  near(t2.used.usd_per_month.used, 3 * USD, 't2 usd');
  near(t2.used.usd_per_month.used_ratio, (3 * USD) / T2_USD_PER_MONTH, 't2 usd ratio');
  assert.equal(t2.used.usd_per_month.reserved, 0);
  assert.equal(t2.spend.day.reserved_tokens, 0);

  // Against the usage ledger for the same team and day.
  for (const t of [t1, t2]) {
    const u = await usageFor(t.team, doc.day);
    assert.ok(u, `usage has ${t.team}`);
    assert.equal(u.prompt_tokens + u.completion_tokens, t.spend.day.tokens, `${t.team} tokens`);
    near(u.cost_usd, t.spend.day.usd, `${t.team} usd (day)`);
    near(u.cost_usd, t.spend.month.usd, `${t.team} usd (month)`);
  }
  // Against the exported gauge.
  near(await metric('warden_budget_used_ratio', { team: 't1', dimension: 'tokens_per_day' }), t1.used.tokens_per_day.used_ratio, 't1 gauge');
  near(await metric('warden_budget_used_ratio', { team: 't2', dimension: 'usd_per_month' }), t2.used.usd_per_month.used_ratio, 't2 usd gauge');
  near(await metric('warden_budget_used_ratio', { team: 't2', dimension: 'tokens_per_day' }), t2.used.tokens_per_day.used_ratio, 't2 tokens gauge');
});

test('a request in flight shows as reserved, then as spend', async () => {
  const gate = deferred();
  fake.enqueue(async (ctx) => { await gate.promise; return reply.chat({ content: 'late' })(ctx); });
  const seen = fake.chatRequests().length;
  const pending = chat(KEY2);
  await fake.waitForRequest(seen + 1);
  const held = await team('t2');
  assert.ok(held.spend.day.reserved_tokens > 0, JSON.stringify(held.spend));
  assert.ok(held.used.usd_per_month.reserved > 0);
  assert.equal(held.used.tokens_per_day.used, 3 * TOKENS, 'nothing settled while in flight');
  gate.resolve();
  assert.equal((await pending).status, 200);
  await eventually(async () => {
    const t = await team('t2');
    return t.spend.day.reserved_tokens === 0 && t.used.tokens_per_day.used === 4 * TOKENS;
  }, { what: 'reservation settled' });
});

test('key counts follow keys created and revoked over the API', async () => {
  const res = await request(`${adminUrl}/admin/keys`, { method: 'POST', headers: admin, body: { team: 't3', name: 'svc' } });
  assert.equal(res.status, 201, res.text);
  assert.deepEqual((await team('t3')).keys, { config: 0, virtual_active: 1 });
  const del = await request(`${adminUrl}/admin/keys/${res.json.id}`, { method: 'DELETE', headers: admin });
  assert.equal(del.status, 200);
  assert.deepEqual((await team('t3')).keys, { config: 0, virtual_active: 0 });
});
