// /healthz and /readyz; x-request-id kept when sent, generated otherwise, always returned.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startFakeUpstream } from '../support/fake_upstream.mjs';
import { auth, postChat, request } from '../support/http.mjs';
import { makeConfig, startWarden } from '../support/warden.mjs';

let fake;
let warden;
before(async () => {
  fake = await startFakeUpstream();
  warden = await startWarden(makeConfig({ upstream: fake }));
});
after(async () => {
  await warden?.stop();
  await fake?.close();
});

test('/healthz and /readyz answer 200 without a key', async () => {
  for (const p of ['/healthz', '/readyz']) {
    const res = await request(`${warden.url}${p}`);
    assert.equal(res.status, 200, `${p}: ${res.text}`);
  }
});

test('x-request-id sent by the caller is returned unchanged (success and error)', async () => {
  const id = 'req-test-0123456789abcdef';
  let res = await postChat(warden.url, { model: 'fast', messages: [{ role: 'user', content: 'x' }] }, { headers: { ...auth(), 'x-request-id': id } });
  assert.equal(res.status, 200);
  assert.equal(res.headers['x-request-id'], id);
  res = await postChat(warden.url, { model: 'fast', messages: [{ role: 'user', content: 'x' }] }, { headers: { authorization: 'Bearer wrong', 'x-request-id': `${id}-2` } });
  assert.equal(res.status, 401);
  assert.equal(res.headers['x-request-id'], `${id}-2`);
});

test('x-request-id is generated when absent, different per request', async () => {
  const ids = [];
  for (const r of [
    await request(`${warden.url}/healthz`),
    await postChat(warden.url, { model: 'fast', messages: [{ role: 'user', content: 'x' }] }),
    await postChat(warden.url, { model: 'fast', messages: [{ role: 'user', content: 'x' }] }),
    await postChat(warden.url, { model: 'fast', messages: [] }, { headers: {} }),
  ]) {
    assert.ok(r.headers['x-request-id'], `x-request-id on ${r.status}`);
    ids.push(r.headers['x-request-id']);
  }
  assert.equal(new Set(ids).size, ids.length, `unique: ${ids}`);
  for (const id of ids) assert.match(id, /^[\x21-\x7e]{8,128}$/);
});
