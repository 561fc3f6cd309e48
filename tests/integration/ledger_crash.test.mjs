// The usage ledger survives kill -9 (issue 15 defect 3): every request whose ledger row
// was appended before the kill is in usage.db after a restart (the row's journal line is
// replayed), so ledger rows == audit records == answered requests, and the ledger's token
// total equals the budget's committed spend.
import assert from 'node:assert/strict';
import path from 'node:path';
import fs from 'node:fs';
import { after, test } from 'node:test';
import { startFakeUpstream } from '../support/fake_upstream.mjs';
import { auth, eventually, postChat, request } from '../support/http.mjs';
import { makeConfig, runWarden, startWarden, tempDir } from '../support/warden.mjs';

const ADMIN_TOKEN = 'admin-token-ledger-crash-77aa';
const N = 60;
let fake;
const started = [];
after(async () => {
  for (const w of started) await w.stop('SIGKILL');
  await fake?.close();
});

test('kill -9 right after a burst: ledger rows == audit records == answered, ledger tokens == budget spend', async () => {
  fake = await startFakeUpstream();
  const stateDir = path.join(tempDir('warden-ledger-crash-'), 'var');
  const config = {
    state_dir: stateDir,
    ...makeConfig({
      upstream: fake,
      server: { admin_listen: '127.0.0.1:0', admin_token: ADMIN_TOKEN },
      extra: { audit: { file: 'audit.jsonl' }, teams: { t1: { budget: { tokens_per_day: 1000000000 } } } },
    }),
  };
  const first = await startWarden(config);
  started.push(first);

  // A burst, six at a time; every request id is ours so the access log can be matched.
  let next = 0;
  const answered = [];
  await Promise.all(Array.from({ length: 6 }, async () => {
    while (next < N) {
      const id = `crash-${String(next++).padStart(3, '0')}`;
      const res = await postChat(first.url, { model: 'fast', messages: [{ role: 'user', content: id }] },
        { headers: { ...auth(), 'x-request-id': id } });
      assert.equal(res.status, 200, res.text);
      answered.push(id);
    }
  }));
  // The access line of a request is written after its ledger row was appended (same
  // coroutine, in order): once all N are logged, kill -9 at once.
  await eventually(() => answered.every((id) => first.logs().includes(id)), { what: 'every request logged' });
  await first.stop('SIGKILL');

  const auditLines = fs.readFileSync(path.join(stateDir, 'audit.jsonl'), 'utf8').split('\n').filter(Boolean)
    .map((l) => JSON.parse(l)).filter((r) => r.type === 'request');

  // Restart on the same state_dir: the ledger replays what the crash left in its journal.
  const second = await startWarden(config);
  started.push(second);
  const report = await runWarden(['usage', 'report', '--by', 'team', '--format', 'json', '--state-dir', stateDir]);
  assert.equal(report.code, 0, report.stderr);
  const total = JSON.parse(report.stdout).total;
  assert.equal(total.requests, N, 'ledger rows == answered requests');
  assert.equal(auditLines.length, N, 'audit records == answered requests');

  const teams = await request(`${second.adminUrl}/admin/teams`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  const t1 = teams.json.teams.find((t) => t.team === 't1');
  assert.equal(t1.spend.day.tokens, total.prompt_tokens + total.completion_tokens, 'ledger tokens == budget spend');

  const verify = await runWarden(['audit', 'verify', path.join(stateDir, 'audit.jsonl')]);
  assert.equal(verify.code, 0, verify.stdout + verify.stderr);
});
