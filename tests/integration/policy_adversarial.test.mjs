// Issue 14, "make bypass hard": a table of hostile requests through a real `warden serve`
// and the decision each must get. Every row says what the caller gets (status + code) and
// what must never reach the upstream. DLP and guardrails scan a normalised view (NFKC,
// zero-width and bidi controls removed, case-folded for terms), so spelling tricks do
// not hide a value; redaction still replaces the original text.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { reply, startFakeUpstream } from '../support/fake_upstream.mjs';
import { postChat, request } from '../support/http.mjs';
import { CALLER_KEY, makeConfig, startWarden } from '../support/warden.mjs';

let fake;
let warden;
before(async () => {
  fake = await startFakeUpstream();
  fake.setDefault(reply.chat({ content: 'ok' }));
  warden = await startWarden(makeConfig({
    upstream: fake,
    extra: {
      teams: {
        t1: {
          dlp: { email: 'redact', credit_card: 'block', secrets: 'block' },
          guardrails: { blocked_terms: ['project-zeus'] },
        },
      },
      guardrails: { blocked_regex: ['SECRET-[0-9]{4}'] },
    },
  }));
});
after(async () => {
  await warden?.stop();
  await fake?.close();
});

const CARD = '4111 1111 1111 1111';
const fullWidth = (s) => [...s].map((c) => (c >= '!' && c <= '~' ? String.fromCodePoint(c.codePointAt(0) + 0xFEE0) : c)).join('');
const user = (content, extra = {}) => ({ role: 'user', content, ...extra });
const chat = (messages, extra = {}) => ({ model: 'fast', messages, ...extra });

// expect: 'redacted' (200, upstream sees a placeholder, never `secret`), or
// {status, code} (refused; nothing reaches the upstream).
const openaiCases = [
  { name: 'email split by U+200B', body: chat([user('mail jane\u200B.doe@corp.example now')]), secret: 'corp.example', expect: 'redacted' },
  { name: 'email with a bidi override inside', body: chat([user('mail jane.doe@\u202Ecorp.example now')]), secret: 'corp.example', expect: 'redacted' },
  { name: 'email in full-width letters', body: chat([user(`mail ${fullWidth('jane@corp.example')} now`)]), secret: fullWidth('corp.example'), expect: 'redacted' },
  { name: 'email via a JSON \\u escape', raw: '{"model":"fast","messages":[{"role":"user","content":"mail jane\\u0040corp.example"}]}', secret: 'corp.example', expect: 'redacted' },
  { name: 'card in full-width digits', body: chat([user(`pay with ${fullWidth(CARD)}`)]), secret: fullWidth('1111'), expect: { status: 400, code: 'dlp_blocked' } },
  { name: 'card digits joined by U+200D', body: chat([user('pay 4111\u200D1111\u200D1111\u200D1111')]), secret: '1111', expect: { status: 400, code: 'dlp_blocked' } },
  { name: 'blocked term in full width', body: chat([user(`about ${fullWidth('project-zeus')}`)]), expect: { status: 400, code: 'content_blocked' } },
  { name: 'blocked term split by U+200B and upper-cased', body: chat([user('about PROJECT-\u200BZEUS')]), expect: { status: 400, code: 'content_blocked' } },
  { name: 'blocked term behind a bidi isolate', body: chat([user('about \u2066project-zeus\u2069')]), expect: { status: 400, code: 'content_blocked' } },
  { name: 'blocked regex in full width', body: chat([user(`code ${fullWidth('SECRET-1234')}`)]), expect: { status: 400, code: 'content_blocked' } },
  { name: 'duplicate top-level key (messages twice)', raw: `{"model":"fast","messages":[{"role":"user","content":"hi"}],"messages":[{"role":"user","content":"pay ${CARD}"}]}`, secret: '1111', expect: { status: 400, code: 'duplicate_key' } },
  { name: 'duplicate key inside a message', raw: `{"model":"fast","messages":[{"role":"user","content":"hi","content":"pay ${CARD}"}]}`, secret: '1111', expect: { status: 400, code: 'duplicate_key' } },
  { name: 'PII in the second of nested content parts', body: chat([user([{ type: 'text', text: 'hello' }, { type: 'text', text: 'i am jane@corp.example' }])]), secret: 'corp.example', expect: 'redacted' },
  { name: 'a card in a text part after an image', body: chat([user([{ type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }, { type: 'text', text: `card ${CARD}` }])]), secret: '1111', expect: { status: 400, code: 'dlp_blocked' } },
  { name: 'blocked term in a text part after an image', body: chat([user([{ type: 'image_url', image_url: { url: 'https://x.test/a.png' } }, { type: 'text', text: 'project-zeus' }])]), expect: { status: 400, code: 'content_blocked' } },
  {
    name: 'tool-call arguments carrying PII',
    body: chat([user('weather?'), { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'get_weather', arguments: '{"notify":"jane@corp.example"}' } }] },
      { role: 'tool', tool_call_id: 'c1', content: 'sunny' }]),
    secret: 'corp.example', expect: 'redacted',
  },
  {
    name: 'a tool result carrying a card',
    body: chat([user('look up'), { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'lookup', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 'c1', content: `card on file: ${CARD}` }]),
    secret: '1111', expect: { status: 400, code: 'dlp_blocked' },
  },
  {
    name: 'a tool result carrying a blocked term',
    body: chat([user('look up'), { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'lookup', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 'c1', content: 'codename project-zeus' }]),
    expect: { status: 400, code: 'content_blocked' },
  },
  { name: 'PII in a message name field', body: chat([user('hi', { name: 'jane@corp.example' })]), secret: 'corp.example', expect: 'redacted' },
  { name: 'blocked term in a message name field', body: chat([user('hi', { name: 'project-zeus' })]), expect: { status: 400, code: 'content_blocked' } },
  { name: 'PII in an earlier assistant reasoning_content', body: chat([user('a'), { role: 'assistant', content: 'b', reasoning_content: 'user is jane@corp.example' }, user('c')]), secret: 'corp.example', expect: 'redacted' },
  { name: 'a card in an unknown top-level field', body: chat([user('hi')], { x_note: { nested: [`card ${CARD}`] } }), secret: '1111', expect: { status: 400, code: 'dlp_blocked' } },
  { name: 'an email in an unknown message field', body: chat([user('hi', { x_meta: 'jane@corp.example' })]), secret: 'corp.example', expect: { status: 400, code: 'dlp_blocked' } },
  { name: 'a secret (AWS key) in caller metadata is simply dropped', body: chat([user('hi')], { metadata: { k: 'AKIAIOSFODNN7EXAMPLE' } }), secret: 'AKIAIOSFODNN7EXAMPLE', expect: 'passed' },
];

async function send(c) {
  const body = c.raw ?? c.body;
  return postChat(warden.url, body);
}

function check(c, res, upstream) {
  const sent = upstream.map((r) => r.rawBody).join('\n');
  if (c.expect === 'redacted' || c.expect === 'passed') {
    assert.equal(res.status, 200, `${c.name}: ${res.text}`);
    assert.equal(upstream.length, 1, c.name);
    if (c.expect === 'redacted') assert.match(sent, /<EMAIL_\d+>/, `${c.name}: ${sent}`);
  } else {
    assert.equal(res.status, c.expect.status, `${c.name}: ${res.text}`);
    assert.equal(res.json?.error?.code ?? res.json?.error?.type, c.expect.code, `${c.name}: ${res.text}`);
    assert.equal(upstream.length, 0, `${c.name}: nothing may reach the upstream`);
  }
  if (c.secret) assert.ok(!sent.includes(c.secret), `${c.name}: '${c.secret}' reached the upstream: ${sent}`);
}

describe('hostile OpenAI requests', () => {
  for (const c of openaiCases) {
    test(c.name, async () => {
      fake.reset();
      fake.setDefault(reply.chat({ content: 'ok' }));
      const res = await send(c);
      check(c, res, fake.chatRequests());
    });
  }

  test('redaction maps back to the original spelling: the caller gets its own text restored', async () => {
    fake.reset();
    fake.setDefault(reply.chat({ content: 'noted <EMAIL_1>' }));
    const original = 'jane\u200B.doe@corp.example';
    const res = await postChat(warden.url, chat([user(`mail ${original} now`)]));
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.choices[0].message.content, `noted ${original}`);
    assert.match(fake.chatRequests()[0].json.messages[0].content, /^mail <EMAIL_1> now$/);
  });

  test('hostile text in the answer: a full-width card stops it, a zero-width-split email is redacted', async () => {
    fake.reset();
    fake.setDefault(reply.chat({ content: `your card ${fullWidth(CARD)}` }));
    const blocked = await postChat(warden.url, chat([user('hi')]));
    assert.equal(blocked.status, 400, blocked.text);
    assert.equal(blocked.json.error.code, 'dlp_blocked');
    assert.ok(!blocked.text.includes(fullWidth('1111')));
    fake.reset();
    fake.setDefault(reply.chat({ content: 'write to bob\u200B@other.example' }));
    const redacted = await postChat(warden.url, chat([user('hi')]));
    assert.equal(redacted.status, 200, redacted.text);
    assert.equal(redacted.json.choices[0].message.content, 'write to [REDACTED:EMAIL]');
  });
});

describe('hostile Anthropic requests', () => {
  const anth = (body) => request(`${warden.url}/anthropic/v1/messages`, {
    method: 'POST', headers: { 'x-api-key': CALLER_KEY }, body: typeof body === 'string' ? body : { model: 'fast', max_tokens: 16, ...body },
  });
  const cases = [
    { name: 'a card in a system block', body: { system: [{ type: 'text', text: 'be brief' }, { type: 'text', text: `card ${CARD}` }], messages: [user('hi')] }, secret: '1111', expect: { status: 400, code: 'dlp_blocked' } },
    { name: 'a blocked term in a system string', body: { system: `about ${fullWidth('project-zeus')}`, messages: [user('hi')] }, expect: { status: 400, code: 'content_blocked' } },
    { name: 'an email in a text block after an image', body: { messages: [user([{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAAA' } }, { type: 'text', text: 'jane@corp.example' }])] }, secret: 'corp.example', expect: 'redacted' },
    {
      name: 'a card in a tool_result block',
      body: { messages: [user('x'), { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'lookup', input: {} }] },
        user([{ type: 'tool_result', tool_use_id: 't1', content: [{ type: 'text', text: `card ${CARD}` }] }])] },
      secret: '1111', expect: { status: 400, code: 'dlp_blocked' },
    },
    {
      name: 'an email in tool_use input',
      body: { messages: [user('x'), { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'mail', input: { to: 'jane@corp.example' } }] },
        user([{ type: 'tool_result', tool_use_id: 't1', content: 'sent' }])] },
      secret: 'corp.example', expect: 'redacted',
    },
    { name: 'duplicate top-level key', body: `{"model":"fast","max_tokens":16,"messages":[{"role":"user","content":"hi"}],"messages":[{"role":"user","content":"card ${CARD}"}]}`, secret: '1111', expect: { status: 400, code: 'invalid_request_error' } },
    { name: 'duplicate key inside a message', body: `{"model":"fast","max_tokens":16,"messages":[{"role":"user","content":"hi","content":"card ${CARD}"}]}`, secret: '1111', expect: { status: 400, code: 'invalid_request_error' } },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      fake.reset();
      fake.setDefault(reply.chat({ content: 'ok' }));
      const res = await anth(c.body);
      if (res.json?.type === 'error') res.json.error.code ??= res.json.error.type;
      check(c, res, fake.chatRequests());
    });
  }
});
