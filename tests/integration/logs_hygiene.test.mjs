// Logs: one access line per request naming its request id; never a key (caller's,
// wrong ones, provider's) and never prompt or completion text.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { reply, startFakeUpstream } from '../support/fake_upstream.mjs';
import { assertLogsClean, auth, openStream, postChat, sleep } from '../support/http.mjs';
import { CALLER_KEY, CALLER_KEY_2, makeConfig, PROVIDER_KEY, startWarden } from '../support/warden.mjs';

const PROMPT = 'PROMPT-MARKER-the-secret-launch-code-is-4242';
const ANSWER = 'ANSWER-MARKER-confidential-reply';
const WRONG = 'sk-warden-test-wrong-key-should-not-log';

let fake;
let warden;
before(async () => {
  fake = await startFakeUpstream();
  fake.setDefault(reply.chat({ content: ANSWER, reasoning: ['REASONING-MARKER'] }));
  warden = await startWarden(makeConfig({ upstream: fake }));
});
after(async () => {
  await warden?.stop();
  await fake?.close();
});

test('access log has each request id; no keys, no prompt or answer text', async () => {
  const ids = [];
  const hdr = (key, i) => { const id = `hyg-${i}-${Date.now()}`; ids.push(id); return { ...auth(key), 'x-request-id': id }; };
  const msg = { model: 'fast', messages: [{ role: 'user', content: PROMPT }] };
  assert.equal((await postChat(warden.url, msg, { headers: hdr(CALLER_KEY, 0) })).status, 200);
  assert.equal((await postChat(warden.url, msg, { headers: hdr(CALLER_KEY_2, 1) })).status, 200);
  assert.equal((await postChat(warden.url, msg, { headers: hdr(WRONG, 2) })).status, 401);
  const h = openStream(`${warden.url}/v1/chat/completions`, { ...msg, stream: true }, { headers: hdr(CALLER_KEY, 3) });
  await h.done;
  fake.setDefault(reply.error(400, `upstream rejected: ${PROMPT}`));
  await postChat(warden.url, msg, { headers: hdr(CALLER_KEY, 4) });
  await postChat(warden.url, { model: 'fast', messages: 'not-a-list' + PROMPT }, { headers: hdr(CALLER_KEY, 5) });

  // Access lines may be written right after the response: give them a moment, then stop
  // warden so everything is flushed.
  await sleep(200);
  await warden.stop();
  const logs = warden.logs();
  for (const id of ids) assert.ok(logs.includes(id), `access log mentions ${id}`);
  assertLogsClean(logs, [CALLER_KEY, CALLER_KEY_2, WRONG, PROVIDER_KEY, PROMPT, ANSWER, 'REASONING-MARKER', 'secret-launch-code']);
});
