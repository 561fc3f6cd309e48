// Caller auth from `keys:` (plain, sha256, ${VAR}); anything else is 401 invalid_api_key
// and never reaches the upstream.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startFakeUpstream } from '../support/fake_upstream.mjs';
import { assertOpenAIError, auth, postChat, request } from '../support/http.mjs';
import { CALLER_KEY, CALLER_KEY_2, makeConfig, sha256Hex, startWarden } from '../support/warden.mjs';

const ENV_KEY = 'sk-warden-test-from-env-9d1e';

let fake;
let warden;
before(async () => {
  fake = await startFakeUpstream();
  warden = await startWarden(makeConfig({
    upstream: fake,
    keys: [
      { id: 'k1', team: 't1', key: CALLER_KEY },
      { id: 'k2', team: 't1', sha256: sha256Hex(CALLER_KEY_2) },
      { id: 'k3', team: 't1', key: '${WARDEN_TEST_CALLER_KEY}' },
    ],
  }), { env: { WARDEN_TEST_CALLER_KEY: ENV_KEY } });
});
after(async () => {
  await warden?.stop();
  await fake?.close();
});

const body = { model: 'fast', messages: [{ role: 'user', content: 'x' }] };

test('plain, sha256 and ${VAR} keys are accepted', async () => {
  fake.reset();
  for (const key of [CALLER_KEY, CALLER_KEY_2, ENV_KEY]) {
    const res = await postChat(warden.url, body, { headers: auth(key) });
    assert.equal(res.status, 200, `${key.slice(0, 14)}: ${res.text}`);
  }
  assert.equal(fake.chatRequests().length, 3);
});

const bad = {
  'no authorization header': {},
  'wrong key': auth('sk-warden-test-not-a-key'),
  'empty bearer': { authorization: 'Bearer ' },
  'other scheme': { authorization: `Basic ${Buffer.from(`user:${CALLER_KEY}`).toString('base64')}` },
  'the sha256 itself used as key': auth(sha256Hex(CALLER_KEY_2)),
  'literal ${VAR} text': auth('${WARDEN_TEST_CALLER_KEY}'),
  'key with a suffix': auth(`${CALLER_KEY}x`),
};

for (const [name, headers] of Object.entries(bad)) {
  test(`401 invalid_api_key: ${name}`, async () => {
    fake.reset();
    const res = await postChat(warden.url, body, { headers });
    assertOpenAIError(res, { status: 401, code: 'invalid_api_key' });
    assert.equal(fake.requests.length, 0, 'nothing reached the upstream');
  });
}

test('401 on a stream request is a JSON error, not a stream', async () => {
  const res = await postChat(warden.url, { ...body, stream: true }, { headers: auth('sk-nope') });
  assertOpenAIError(res, { status: 401, code: 'invalid_api_key' });
});

test('/v1/models needs a key too', async () => {
  assertOpenAIError(await request(`${warden.url}/v1/models`), { status: 401, code: 'invalid_api_key' });
  assert.equal((await request(`${warden.url}/v1/models`, { headers: auth() })).status, 200);
});

test('error message does not echo the key that was sent', async () => {
  const res = await postChat(warden.url, body, { headers: auth('sk-warden-test-leaky-key-123') });
  assert.ok(!res.text.includes('sk-warden-test-leaky-key-123'));
});
