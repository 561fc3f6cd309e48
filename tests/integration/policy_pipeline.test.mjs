// The policy chain through a real warden and a recording fake DeepSeek upstream:
// DLP redaction round trip, budget under concurrency, virtual keys via the CLI, rate
// limits, tool rules, and the audit trail surviving kill -9.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { chunk, reply, startFakeUpstream } from '../support/fake_upstream.mjs';
import { auth, openStream, postChat, sleep } from '../support/http.mjs';
import { CALLER_KEY, makeConfig, runWarden, startWarden, tempDir, yamlDocument } from '../support/warden.mjs';

let fake;
before(async () => { fake = await startFakeUpstream(); });
after(async () => { await fake?.close(); });

const chat = (content, extra = {}) => ({ model: 'fast', messages: [{ role: 'user', content }], ...extra });

function upstreamText(record) {
  return JSON.stringify(record.json?.messages ?? []);
}

describe('DLP redaction', () => {
  let warden;
  before(async () => {
    warden = await startWarden(makeConfig({
      upstream: fake,
      extra: {
        teams: { t1: { dlp: { email: 'redact', credit_card: 'block', phone: 'redact' } } },
      },
    }));
  });
  after(async () => { await warden?.stop(); });

  test('values reach upstream as placeholders and come back restored (non-stream)', async () => {
    fake.reset();
    fake.enqueue(reply.chat({ content: 'I will email <EMAIL_1> and call <PHONE_1>.' }));
    const res = await postChat(warden.url, chat('Email jane.doe@corp.example and call +1 415 555 0132 please'));
    assert.equal(res.status, 200, res.text);
    const sent = upstreamText(fake.chatRequests()[0]);
    assert.ok(sent.includes('<EMAIL_1>') && sent.includes('<PHONE_1>'), sent);
    assert.ok(!sent.includes('jane.doe@corp.example') && !sent.includes('555 0132'), sent);
    assert.equal(res.json.choices[0].message.content, 'I will email jane.doe@corp.example and call +1 415 555 0132.');
  });

  test('placeholders split across stream chunks are restored', async () => {
    fake.reset();
    fake.enqueue(async (ctx) => reply.stream([
      chunk.role('deepseek-v4-flash'),
      chunk.content('Sending to <EMA'), chunk.content('IL_1'), chunk.content('> now'),
      chunk.content(', done.\n'),
      chunk.finish('stop'), '[DONE]',
    ])(ctx));
    const h = openStream(`${warden.url}/v1/chat/completions`, chat('Write to ops@corp.example', { stream: true }));
    const end = await h.done;
    assert.ok(end.complete, JSON.stringify(end));
    const text = h.events().filter((e) => e.json?.choices?.length).map((e) => e.json.choices[0].delta?.content ?? '').join('');
    assert.equal(text, 'Sending to ops@corp.example now, done.\n');
    assert.ok(upstreamText(fake.chatRequests()[0]).includes('<EMAIL_1>'));
  });

  test('a blocked detector is refused with dlp_blocked naming it, and nothing goes upstream', async () => {
    fake.reset();
    const res = await postChat(warden.url, chat('card 4111 1111 1111 1111'));
    assert.equal(res.status, 400);
    assert.equal(res.json.error.code, 'dlp_blocked');
    assert.match(res.json.error.message, /credit_card/);
    assert.ok(!res.text.includes('4111'));
    assert.equal(fake.chatRequests().length, 0);
  });
});

describe('budget under concurrency', () => {
  test('64 concurrent requests against a budget that fits 9: at most 9 succeed, spend within budget, durable', async () => {
    fake.reset();
    // Each request: prompt "hi" = 2 bytes + 8 overhead → reserve 10 + max_tokens 100 = 110.
    // Real usage reported = 110 too, so 1000 tokens/day fit 9 requests.
    fake.setDefault(async (ctx) => {
      await sleep(150);
      return reply.chat({ content: 'ok', usage: { prompt_tokens: 10, completion_tokens: 100, total_tokens: 110 } })(ctx);
    });
    const cfg = makeConfig({
      upstream: fake,
      extra: {
        teams: { t1: { budget: { tokens_per_day: 1000, mode: 'hard' } } },
        audit: { file: 'audit.jsonl', fsync: 'batch' },
      },
    });
    let warden = await startWarden(cfg);
    try {
      const results = await Promise.all(Array.from({ length: 64 }, () => postChat(warden.url, chat('hi', { max_tokens: 100 }), { timeoutMs: 30000 })));
      const ok = results.filter((r) => r.status === 200);
      const refused = results.filter((r) => r.status === 402);
      assert.equal(ok.length + refused.length, 64, JSON.stringify(results.map((r) => r.status)));
      assert.ok(ok.length >= 1 && ok.length <= 9, `succeeded: ${ok.length}`);
      for (const r of refused) assert.equal(r.json.error.code, 'budget_exceeded');
      assert.equal(fake.chatRequests().length, ok.length, 'refused requests never reached upstream');
      const spent = ok.reduce((s, r) => s + r.json.usage.total_tokens, 0);
      assert.ok(spent <= 1000, `spent ${spent}`);
      // Sequential top-up until full: the total stays within budget.
      for (let i = 0; i < 12; i++) await postChat(warden.url, chat('hi', { max_tokens: 100 }));
      assert.ok(fake.chatRequests().length <= 9, `upstream calls: ${fake.chatRequests().length}`);
      const before = fake.chatRequests().length;
      // Restart on the same state_dir: the spend is still there.
      await warden.stop();
      const yaml = fs.readFileSync(warden.configPath, 'utf8');
      warden = await startWarden(yaml);
      const again = await postChat(warden.url, chat('hi', { max_tokens: 100 }));
      if (before === 9) {
        assert.equal(again.status, 402, again.text);
        assert.equal(again.json.error.code, 'budget_exceeded');
      }
    } finally {
      await warden.stop();
      fake.reset();
    }
  });
});

describe('virtual keys, rate limits and tool rules', () => {
  let warden;
  let dir;
  before(async () => {
    dir = tempDir('warden-policy-');
    const cfg = makeConfig({
      upstream: fake,
      extra: {
        teams: {
          t1: { models: ['fast'], rate_limits: { rpm: 3 }, tools: { allow: ['get_weather'] } },
          t2: { tools: { allow: ['get_weather'], on_violation: 'strip' } },
        },
      },
    });
    fs.writeFileSync(path.join(dir, 'warden.yaml'), yamlDocument({ state_dir: path.join(dir, 'var'), ...cfg }));
    warden = await startWarden(fs.readFileSync(path.join(dir, 'warden.yaml'), 'utf8'));
  });
  after(async () => { await warden?.stop(); });

  test('keys create / use / revoke through the CLI; the key is never stored', async () => {
    fake.reset();
    const created = await runWarden(['keys', 'create', '-c', path.join(dir, 'warden.yaml'), '--team', 't2', '--name', 'nb', '--json']);
    assert.equal(created.code, 0, created.stderr);
    const key = JSON.parse(created.stdout);
    assert.match(key.key, /^wk-[A-Za-z0-9_-]{32}$/);
    const ok = await postChat(warden.url, chat('hello'), { headers: auth(key.key) });
    assert.equal(ok.status, 200, ok.text);
    const list = await runWarden(['keys', 'list', '-c', path.join(dir, 'warden.yaml'), '--json']);
    assert.ok(!list.stdout.includes(key.key));
    assert.equal(JSON.parse(list.stdout)[0].status, 'active');
    const db = fs.readFileSync(path.join(dir, 'var', 'warden.db')).toString('latin1') +
      (fs.existsSync(path.join(dir, 'var', 'warden.db-wal')) ? fs.readFileSync(path.join(dir, 'var', 'warden.db-wal')).toString('latin1') : '');
    assert.ok(!db.includes(key.key.slice(3)), 'raw key found in the database');
    const revoked = await runWarden(['keys', 'revoke', '-c', path.join(dir, 'warden.yaml'), key.id]);
    assert.equal(revoked.code, 0, revoked.stderr);
    const denied = await postChat(warden.url, chat('hello'), { headers: auth(key.key) });
    assert.equal(denied.status, 401);
    assert.equal(denied.json.error.code, 'invalid_api_key');
    assert.ok(!warden.logs().includes(key.key), 'key in logs');
  });

  test('model outside the team list is 403 model_not_allowed', async () => {
    const res = await postChat(warden.url, { ...chat('x'), model: 'pro' });
    assert.equal(res.status, 403);
    assert.equal(res.json.error.code, 'model_not_allowed');
  });

  test('tools outside the allowlist: rejected for t1, stripped for t2', async () => {
    fake.reset();
    const tools = [
      { type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: {} } } },
      { type: 'function', function: { name: 'rm_rf', parameters: { type: 'object', properties: {} } } },
    ];
    const rejected = await postChat(warden.url, chat('x', { tools }));
    assert.equal(rejected.status, 400);
    assert.equal(rejected.json.error.code, 'tool_not_allowed');
    assert.match(rejected.json.error.message, /rm_rf/);
    const created = await runWarden(['keys', 'create', '-c', path.join(dir, 'warden.yaml'), '--team', 't2', '--name', 'tools', '--json']);
    const key = JSON.parse(created.stdout).key;
    const stripped = await postChat(warden.url, chat('x', { tools }), { headers: auth(key) });
    assert.equal(stripped.status, 200, stripped.text);
    const names = fake.chatRequests().at(-1).json.tools.map((t) => t.function.name);
    assert.deepEqual(names, ['get_weather']);
    // A call to a tool that is not allowed, in the answer, is blocked.
    fake.enqueue(reply.chat({ toolCalls: [{ id: 'call_1', name: 'rm_rf', fragments: ['{}'] }] }));
    const blocked = await postChat(warden.url, chat('x', { tools: tools.slice(0, 1) }), { headers: auth(key) });
    assert.notEqual(blocked.status, 200, blocked.text);
    assert.equal(blocked.json.error.code, 'tool_not_allowed');
  });

  test('rpm: the 4th request in a minute is 429 with retry-after and x-ratelimit headers', async () => {
    // Fresh warden: earlier tests used some of t1's requests.
    const w = await startWarden(makeConfig({ upstream: fake, extra: { teams: { t1: { rate_limits: { rpm: 3, tpm: 100000 } } } } }));
    try {
      for (let i = 0; i < 3; i++) {
        const r = await postChat(w.url, chat('hi'));
        assert.equal(r.status, 200, r.text);
        assert.equal(r.headers['x-ratelimit-limit-requests'], '3');
        assert.equal(r.headers['x-ratelimit-remaining-requests'], String(2 - i));
      }
      const r = await postChat(w.url, chat('hi'));
      assert.equal(r.status, 429);
      assert.equal(r.json.error.code, 'rate_limit_exceeded');
      assert.ok(Number(r.headers['retry-after']) >= 1);
      assert.equal(r.headers['x-ratelimit-remaining-requests'], '0');
    } finally {
      await w.stop();
    }
  });
});

describe('audit trail', () => {
  test('kill -9 during load, then audit verify passes; the chain continues after restart', async () => {
    fake.reset();
    fake.setDefault(async (ctx) => { await sleep(20); return reply.chat({ content: 'fine' })(ctx); });
    const cfg = makeConfig({ upstream: fake, extra: { audit: { file: 'audit.jsonl', fsync: 'batch', checkpoint_every: 10 } } });
    let warden = await startWarden(cfg);
    const stateDir = path.join(warden.dir, 'var');
    const file = path.join(stateDir, 'audit.jsonl');
    let stop = false;
    const load = Array.from({ length: 16 }, async () => {
      while (!stop) {
        try { await postChat(warden.url, chat('hello'), { timeoutMs: 5000 }); } catch { /* killed */ }
      }
    });
    await sleep(1500);
    warden.proc.kill('SIGKILL');
    await warden.exited;
    stop = true;
    await Promise.all(load);
    const lines = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
    assert.ok(lines.length > 5, `only ${lines.length} audit records`);
    const rec = JSON.parse(lines[0]);
    for (const k of ['seq', 'time', 'request_id', 'key_id', 'team', 'alias', 'target', 'status', 'prompt_tokens', 'cost_usd', 'decisions', 'prev', 'hash'])
      assert.ok(k in rec, `record lacks ${k}`);
    assert.ok(!fs.readFileSync(file, 'utf8').includes('hello'), 'prompt text in the audit log');
    let v = await runWarden(['audit', 'verify', file]);
    assert.equal(v.code, 0, v.stdout + v.stderr);
    assert.match(v.stdout, /HMAC verified/);

    warden = await startWarden(fs.readFileSync(warden.configPath, 'utf8'));
    for (let i = 0; i < 3; i++) await postChat(warden.url, chat('again'));
    await warden.stop();
    v = await runWarden(['audit', 'verify', file]);
    assert.equal(v.code, 0, v.stdout + v.stderr);

    // Tampering is caught and the record named.
    const all = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
    all[2] = all[2].replace('"status":200', '"status":201');
    fs.writeFileSync(file, `${all.join('\n')}\n`);
    v = await runWarden(['audit', 'verify', file]);
    assert.equal(v.code, 1);
    assert.match(v.stdout, /:3 \(seq 3\)/);
    fake.reset();
  });
});
