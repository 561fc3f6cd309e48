// HTTPS upstream: certificate and hostname verification against the configured CA file
// (made at test time with openssl), SNI sent; a wrong CA or a certificate for another
// host fails cleanly with a 502-ish OpenAI error and warden keeps serving.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { reply, startFakeUpstream } from '../support/fake_upstream.mjs';
import { assertOpenAIError, openStream, postChat, request } from '../support/http.mjs';
import { testPki } from '../support/pki.mjs';
import { makeConfig, PROVIDER_KEY, startWarden } from '../support/warden.mjs';

let good;
let wrongHost;
let warden;
before(async () => {
  const pki = testPki();
  good = await startFakeUpstream({ tls: true });
  wrongHost = await startFakeUpstream({ tls: true, certFile: pki.wrongHostCertFile, keyFile: pki.wrongHostKeyFile });
  const cfg = makeConfig({ upstream: good, caFile: pki.caFile });
  const prov = (base, ca) => ({ type: 'openai', base_url: base, api_key: PROVIDER_KEY, ca_file: ca,
    timeouts: { connect_ms: 2000, first_byte_ms: 5000, idle_ms: 5000, total_ms: 10000 } });
  cfg.providers.by_ip = prov(`https://127.0.0.1:${good.port}`, pki.caFile);
  cfg.providers.wrong_ca = prov(good.url, pki.otherCaFile);
  cfg.providers.wrong_host = prov(wrongHost.url, pki.caFile);
  cfg.models.by_ip = { targets: [{ provider: 'by_ip', model: 'deepseek-v4-flash' }] };
  cfg.models.wrong_ca = { targets: [{ provider: 'wrong_ca', model: 'deepseek-v4-flash' }] };
  cfg.models.wrong_host = { targets: [{ provider: 'wrong_host', model: 'deepseek-v4-flash' }] };
  warden = await startWarden(cfg);
});
after(async () => {
  await warden?.stop();
  await good?.close();
  await wrongHost?.close();
});

const ask = (model, stream = false) => ({ model, stream, messages: [{ role: 'user', content: 'x' }] });

test('TLS upstream trusted through ca_file: non-stream works, SNI is the host name', async () => {
  good.reset();
  const res = await postChat(warden.url, ask('fast'));
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json.choices[0].message.content, 'Hello from fake upstream.');
  assert.equal(good.chatRequests()[0].servername, 'localhost');
  assert.equal(good.chatRequests()[0].headers.authorization, `Bearer ${PROVIDER_KEY}`);
});

test('TLS upstream: stream works', async () => {
  good.reset();
  const h = openStream(`${warden.url}/v1/chat/completions`, ask('fast', true));
  await h.done;
  assert.equal(h.status, 200);
  assert.match(h.text(), /data: \[DONE\]/);
});

test('TLS upstream addressed by IP (IP SAN) works', async () => {
  good.reset();
  const res = await postChat(warden.url, ask('by_ip'));
  assert.equal(res.status, 200, res.text);
});

test('wrong CA → 502-ish OpenAI error, nothing reached the upstream', async () => {
  good.reset();
  const res = await postChat(warden.url, ask('wrong_ca'));
  assert.ok(res.status >= 500 && res.status <= 504, `status ${res.status}: ${res.text}`);
  assertOpenAIError(res);
  assert.equal(good.chatRequests().length, 0);
  // Warden did connect and refused the certificate during the handshake.
  await good.waitFor(() => good.tlsErrors.length > 0, 5000, 'a failed TLS handshake at the upstream');
});

test('certificate for another host name → 502-ish OpenAI error', async () => {
  wrongHost.reset();
  const res = await postChat(warden.url, ask('wrong_host'));
  assert.ok(res.status >= 500 && res.status <= 504, `status ${res.status}: ${res.text}`);
  assertOpenAIError(res);
  assert.equal(wrongHost.chatRequests().length, 0);
  await wrongHost.waitFor(() => wrongHost.tlsErrors.length > 0, 5000, 'a failed TLS handshake at the upstream');
});

test('still healthy and the good route still works', async () => {
  good.reset();
  good.setDefault(reply.chat({ content: 'again' }));
  assert.equal((await request(`${warden.url}/healthz`)).status, 200);
  const res = await postChat(warden.url, ask('fast'));
  assert.equal(res.json?.choices?.[0]?.message?.content, 'again');
});
