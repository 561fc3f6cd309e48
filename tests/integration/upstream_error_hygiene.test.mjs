// Issue 14 item 9: an upstream's error reaches the caller as its status and a sanitised
// message — never a header value warden sent (an upstream that echoes its request headers
// must not hand out the provider key) — and caller-chosen strings that reach logs and
// the audit trail are bounded: an over-long one is a 400, not a megabyte log line.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { chunk, reply, startFakeUpstream } from '../support/fake_upstream.mjs';
import { auth, openStream, postChat, request } from '../support/http.mjs';
import { CALLER_KEY, makeConfig, PROVIDER_KEY, startWarden } from '../support/warden.mjs';

const HEADER_SECRET = 'tenant-secret-4f1c9a77e0b2';

let fake;
let warden;
before(async () => {
  fake = await startFakeUpstream();
  warden = await startWarden(makeConfig({
    upstream: fake,
    provider: { headers: { 'x-tenant-token': HEADER_SECRET } },
    extra: { audit: { file: 'audit.jsonl' } },
  }));
});
after(async () => {
  await warden?.stop();
  await fake?.close();
});

const ask = (extra = {}) => ({ model: 'fast', messages: [{ role: 'user', content: 'hi' }], ...extra });

// Every header the upstream received, echoed the way a debugging proxy would.
const echoHeaders = (ctx) => Object.entries(ctx.req.headers).map(([k, v]) => `${k}: ${v}`).join('\n');

function assertClean(text) {
  assert.ok(!text.includes(PROVIDER_KEY), `provider key leaked: ${text}`);
  assert.ok(!text.includes(PROVIDER_KEY.slice(3)), `provider key (sans prefix) leaked: ${text}`);
  assert.ok(!text.includes(HEADER_SECRET), `configured header value leaked: ${text}`);
}

describe('upstream error bodies are sanitised', () => {
  for (const status of [400, 401, 429, 500, 503]) {
    test(`JSON error ${status} echoing the request headers: status kept, no secret`, async () => {
      fake.reset();
      fake.setDefault(async (ctx) => reply.error(status, `bad request; you sent:\n${echoHeaders(ctx)}`, { code: 'echo_test' })(ctx));
      const res = await postChat(warden.url, ask());
      assert.equal(res.status, status, res.text);
      assertClean(res.text);
      assert.equal(res.json.error.code, 'echo_test');
      assert.match(res.json.error.message, /\[redacted\]/);
      assert.ok(res.json.error.message.length <= 520, `${res.json.error.message.length} bytes`);
    });
  }

  test('a non-JSON body (a proxy page) echoing headers', async () => {
    fake.reset();
    fake.setDefault(async (ctx) => {
      const text = `<html><pre>${echoHeaders(ctx)}</pre></html>`;
      ctx.res.writeHead(502, { 'content-type': 'text/html' });
      ctx.res.end(text);
    });
    const res = await postChat(warden.url, ask());
    assert.equal(res.status, 502, res.text);
    assertClean(res.text);
  });

  test('an in-band error in a stream echoing the key; and the Anthropic shape too', async () => {
    fake.reset();
    fake.setDefault(async (ctx) => reply.stream([
      chunk.role(), chunk.content('partial '),
      { error: { message: `upstream failed for Bearer ${PROVIDER_KEY} (${HEADER_SECRET})`, type: 'server_error', code: 'x' } },
    ])(ctx));
    const h = openStream(`${warden.url}/v1/chat/completions`, ask({ stream: true }));
    await h.done;
    assertClean(h.text());
    assert.match(h.text(), /partial /);

    fake.reset();
    fake.setDefault(async (ctx) => reply.error(403, `denied: ${echoHeaders(ctx)}`)(ctx));
    const res = await request(`${warden.url}/anthropic/v1/messages`, {
      method: 'POST', headers: { 'x-api-key': CALLER_KEY },
      body: { model: 'fast', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] },
    });
    assert.equal(res.status, 403, res.text);
    assert.equal(res.json.type, 'error');
    assertClean(res.text);
  });

  test('a hostile error code or param is not relayed', async () => {
    fake.reset();
    fake.setDefault(reply.json({ error: { message: 'no', type: 'x'.repeat(5000), param: 'a b<script>', code: `k ${PROVIDER_KEY}` } }, { status: 400 }));
    const res = await postChat(warden.url, ask());
    assert.equal(res.status, 400);
    assertClean(res.text);
    assert.equal(res.json.error.code, 'invalid_request_error');
    assert.equal(res.json.error.param, null);
    assert.ok(res.text.length < 1000, res.text);
  });
});

describe('caller strings that reach logs and audit are bounded', () => {
  test('a 1 MB model name is a 400 field_too_long (401 without a key); no long log line', async () => {
    const huge = 'm'.repeat(1 << 20);
    const res = await postChat(warden.url, { model: huge, messages: [{ role: 'user', content: 'hi' }] }, { timeoutMs: 20000 });
    assert.equal(res.status, 400, res.text.slice(0, 300));
    assert.equal(res.json.error.code, 'field_too_long');
    assert.equal(res.json.error.param, 'model');
    assert.ok(res.text.length < 1000);
    const anon = await postChat(warden.url, { model: huge, messages: [] }, { headers: {}, timeoutMs: 20000 });
    assert.equal(anon.status, 401);
    const anth = await request(`${warden.url}/anthropic/v1/messages`, {
      method: 'POST', headers: { 'x-api-key': CALLER_KEY }, timeoutMs: 20000,
      body: { model: huge, max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] },
    });
    assert.equal(anth.status, 400);
    assert.equal(anth.json.error.code, 'field_too_long');
    const ok = await postChat(warden.url, ask({ model: 'f'.repeat(256) }));
    assert.equal(ok.json?.error?.code, 'model_not_found', 'exactly at the bound is an ordinary (unknown) alias');

    for (const h of ['x-warden-workload', 'x-warden-data-class']) {
      const r = await postChat(warden.url, ask(), { headers: { ...auth(), [h]: 'w'.repeat(4096) } });
      assert.equal(r.status, 400, r.text);
      assert.equal(r.json.error.code, 'field_too_long');
      assert.equal(r.json.error.param, h);
    }
    const longest = Math.max(...warden.logs().split('\n').map((l) => l.length));
    assert.ok(longest < 2048, `longest log line: ${longest} bytes`);
  });
});
