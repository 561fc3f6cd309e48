// A remote provider without credentials (an unset ${DEEPSEEK_API_KEY:-}) is named in one
// warning at start-up, before any request fails upstream; one with an api_key or an auth
// header is not; local providers need none.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CALLER_KEY, PROVIDER_KEY, startWarden } from '../support/warden.mjs';

const config = (providers) => ({
  providers,
  models: Object.fromEntries(Object.keys(providers).map((p) => [`m-${p}`, { targets: [{ provider: p, model: 'x' }] }])),
  teams: { t1: {} },
  keys: [{ id: 'k1', team: 't1', key: CALLER_KEY }],
});

test('a remote provider with no api_key is named at start; keyed ones are not', async () => {
  const w = await startWarden(config({
    bare: { type: 'openai', base_url: 'http://127.0.0.1:9', api_key: '' },
    keyed: { type: 'openai', base_url: 'http://127.0.0.1:9', api_key: PROVIDER_KEY },
    header: { type: 'anthropic', base_url: 'http://127.0.0.1:9', headers: { 'X-Api-Key': PROVIDER_KEY } },
  }));
  try {
    const logs = w.logs();
    assert.match(logs, /provider 'bare' has no api_key/);
    assert.doesNotMatch(logs, /provider 'keyed' has no api_key/);
    assert.doesNotMatch(logs, /provider 'header' has no api_key/);
    assert.ok(!logs.includes(PROVIDER_KEY), 'a secret reached the log');
  } finally {
    await w.stop();
  }
});
