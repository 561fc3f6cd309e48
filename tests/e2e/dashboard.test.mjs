// /ui in a real browser (Debian chromium driven by playwright-core): traffic goes through
// warden to a fake upstream, then the dashboard must show the request count and the cost
// computed here from the pricing table, and the team's budget use equal to GET
// /admin/teams (and to the traffic sent); a screenshot goes to tests/artifacts/.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { createRequire } from 'node:module';
import { reply, startFakeUpstream, defaultUsage } from '../support/fake_upstream.mjs';
import { eventually, postChat, request } from '../support/http.mjs';
import { makeConfig, sourceDir, startWarden } from '../support/warden.mjs';

const require = createRequire(import.meta.url);
const CHROMIUM = '/usr/bin/chromium';
const ADMIN_TOKEN = 'admin-token-dashboard-e2e-6a0f';
// USD per 1M tokens.
const PRICE = { input_cache_hit: 1, input_cache_miss: 2, output: 4 };
const REQUESTS = 7;
// Team t1 (the test keys' team): budgets the traffic uses a visible share of.
const BUDGET = { tokens_per_day: 10000, usd_per_month: 0.1, mode: 'hard' };

let fake;
let warden;
let adminUrl;
let browser;

before(async () => {
  fake = await startFakeUpstream();
  fake.setDefault(reply.chat({ content: 'dashboard traffic' }));
  warden = await startWarden(makeConfig({
    upstream: fake,
    server: { admin_listen: '127.0.0.1:0', admin_token: ADMIN_TOKEN },
    extra: { pricing: { 'deepseek-v4-flash': PRICE }, teams: { t1: { budget: BUDGET }, t2: {} } },
  }));
  const m = await eventually(() => /admin listening on (\S+):(\d+)/.exec(warden.logs()), { what: 'admin listener' });
  adminUrl = `http://127.0.0.1:${m[2]}`;
});
after(async () => {
  await browser?.close();
  await warden?.stop();
  await fake?.close();
});

test('/ui without the token serves the page shell only; data needs the bearer', async () => {
  const page = await request(`${adminUrl}/ui`);
  assert.equal(page.status, 200);
  assert.match(page.headers['content-type'], /text\/html/);
  assert.ok(!page.text.includes(ADMIN_TOKEN));
  assert.doesNotMatch(page.text, /https?:\/\/(?!127\.)/, 'no external (CDN) URLs in the page');
  assert.equal((await request(`${adminUrl}/metrics`)).status, 401);
});

test('the dashboard shows the requests and cost that went through warden', { skip: !fs.existsSync(CHROMIUM) && 'no /usr/bin/chromium' }, async () => {
  for (let i = 0; i < REQUESTS; i++) {
    const res = await postChat(warden.url, { model: 'fast', messages: [{ role: 'user', content: `req ${i}` }] });
    assert.equal(res.status, 200, res.text);
  }
  const u = defaultUsage;
  const perRequest = (u.prompt_cache_hit_tokens * PRICE.input_cache_hit + u.prompt_cache_miss_tokens * PRICE.input_cache_miss +
    u.completion_tokens * PRICE.output) / 1e6;
  const expectedCost = (perRequest * REQUESTS).toFixed(6);

  const { chromium } = require(path.join(sourceDir, 'tests/e2e/node_modules/playwright-core'));
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--no-first-run', '--disable-sync'],
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${adminUrl}/ui#token=${ADMIN_TOKEN}`);
  await page.waitForFunction(() => Number(document.body.dataset.polls || 0) >= 1, null, { timeout: 10000 });
  assert.equal(await page.textContent('#total-requests'), String(REQUESTS));
  assert.equal(await page.textContent('#total-errors'), '0');
  assert.equal(await page.textContent('#total-cost'), expectedCost);
  assert.equal(await page.textContent('.team-requests'), String(REQUESTS));
  assert.equal(await page.textContent('.team-cost'), expectedCost);
  assert.notEqual(await page.textContent('#lat-p50'), '-');
  assert.ok(!page.url().includes(ADMIN_TOKEN), 'token removed from the address bar');
  assert.match(await page.textContent('#config'), /generation/);

  // Budgets card: the numbers shown are the API's, and the API's are the traffic's.
  const teamsRes = await request(`${adminUrl}/admin/teams`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  assert.equal(teamsRes.status, 200, teamsRes.text);
  const t1 = teamsRes.json.teams.find((t) => t.team === 't1');
  const tokens = (u.prompt_tokens + u.completion_tokens) * REQUESTS;
  assert.equal(t1.used.tokens_per_day.used, tokens);
  assert.ok(Math.abs(t1.used.usd_per_month.used - perRequest * REQUESTS) < 1e-12);
  const row = (dim) => `tr.budget-row[data-team="t1"][data-dimension="${dim}"]`;
  assert.equal(await page.textContent(`${row('tokens_per_day')} .budget-used`), String(t1.used.tokens_per_day.used));
  assert.equal(await page.textContent(`${row('tokens_per_day')} .budget-limit`), String(BUDGET.tokens_per_day));
  assert.equal(await page.textContent(`${row('tokens_per_day')} .budget-ratio`),
    `${(t1.used.tokens_per_day.used_ratio * 100).toFixed(2)}%`);
  assert.equal(await page.textContent(`${row('tokens_per_day')} .budget-ratio`), `${((tokens / BUDGET.tokens_per_day) * 100).toFixed(2)}%`);
  assert.equal(await page.textContent(`${row('usd_per_month')} .budget-used`), t1.used.usd_per_month.used.toFixed(6));
  assert.equal(await page.textContent(`${row('usd_per_month')} .budget-used`), expectedCost);
  assert.equal(await page.textContent(`${row('usd_per_month')} .budget-ratio`),
    `${(t1.used.usd_per_month.used_ratio * 100).toFixed(2)}%`);
  assert.equal(await page.textContent(`${row('usd_per_month')} .budget-ratio`),
    `${((perRequest * REQUESTS / BUDGET.usd_per_month) * 100).toFixed(2)}%`);
  assert.match(await page.textContent('tr.budget-row[data-team="t2"]'), /no budget/);
  assert.doesNotMatch(await page.textContent('#teams'), /not available/);
  assert.deepEqual(errors, []);

  const dir = path.join(sourceDir, 'tests', 'artifacts');
  fs.mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, 'dashboard.png'), fullPage: true });

  // A wrong token: the page goes back to asking for one.
  const bad = await browser.newPage();
  await bad.goto(`${adminUrl}/ui#token=wrong`);
  await bad.waitForSelector('#login:not([hidden])', { timeout: 10000 });
});
