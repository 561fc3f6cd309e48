// GET /v1/models lists the aliases from `models:`, not the upstream's model ids.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startFakeUpstream } from '../support/fake_upstream.mjs';
import { auth, request } from '../support/http.mjs';
import { makeConfig, startWarden } from '../support/warden.mjs';

let fake;
let warden;
before(async () => {
  fake = await startFakeUpstream();
  warden = await startWarden(makeConfig({
    upstream: fake,
    models: {
      'enterprise-fast': { targets: [{ provider: 'up', model: 'deepseek-v4-flash' }] },
      'enterprise-reasoning': { targets: [{ provider: 'up', model: 'deepseek-v4-pro' }] },
    },
  }));
});
after(async () => {
  await warden?.stop();
  await fake?.close();
});

test('models list has exactly the configured aliases in OpenAI shape', async () => {
  const res = await request(`${warden.url}/v1/models`, { headers: auth() });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json.object, 'list');
  assert.deepEqual(res.json.data.map((m) => m.id).sort(), ['enterprise-fast', 'enterprise-reasoning']);
  for (const m of res.json.data) {
    assert.equal(m.object, 'model');
    assert.equal(typeof m.owned_by, 'string');
  }
});

test('unknown alias in a chat request is a 404 model_not_found', async () => {
  const res = await request(`${warden.url}/v1/chat/completions`, {
    method: 'POST', headers: auth(), body: { model: 'deepseek-v4-flash', messages: [{ role: 'user', content: 'x' }] },
  });
  assert.equal(res.status, 404, res.text);
  assert.equal(res.json?.error?.code, 'model_not_found');
  assert.equal(fake.chatRequests().length, 0, 'nothing reached the upstream');
});
