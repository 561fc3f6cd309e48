// Issue 14 items 1 and 6: with any DLP rule on, a streamed answer reaches the caller
// whole — the same text as the non-stream answer — on the OpenAI and the Anthropic API,
// whether or not it ends in a newline, with a value split across chunks, and when the
// upstream ends without a finish_reason. And the response filter order: guardrails judge
// the text the caller would receive (after DLP restored or redacted it), never the
// placeholders the upstream saw.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { chunk, reply, startFakeUpstream } from '../support/fake_upstream.mjs';
import { openStream, postChat, request } from '../support/http.mjs';
import { CALLER_KEY, makeConfig, startWarden } from '../support/warden.mjs';

let fake;
let warden;
before(async () => {
  fake = await startFakeUpstream();
  warden = await startWarden(makeConfig({
    upstream: fake,
    extra: {
      teams: {
        t1: {
          dlp: { email: 'redact', credit_card: 'block' },
          guardrails: { blocked_terms: ['corp.example is down', 'forbidden.example'] },
        },
      },
    },
  }));
});
after(async () => {
  await warden?.stop();
  await fake?.close();
});

const ask = (content, extra = {}) => ({ model: 'fast', messages: [{ role: 'user', content }], ...extra });

// Scripts the upstream to send `pieces` as content chunks (optionally without finish).
function script(pieces, { finish = true } = {}) {
  fake.setDefault(async (ctx) => {
    if (!ctx.record.json?.stream) return reply.chat({ content: pieces.join('') })(ctx);
    const steps = [chunk.role('deepseek-v4-flash'), ...pieces.map((p) => chunk.content(p))];
    if (finish) steps.push(chunk.finish('stop'));
    steps.push('[DONE]');
    return reply.stream(steps)(ctx);
  });
}

async function openaiStreamText(body) {
  const h = openStream(`${warden.url}/v1/chat/completions`, { ...body, stream: true });
  const end = await h.done;
  assert.ok(end.complete, JSON.stringify(end));
  assert.equal(h.status, 200, h.text());
  const events = h.events();
  assert.equal(events.at(-1)?.data, '[DONE]', h.text());
  const errors = events.filter((e) => e.json?.error);
  return {
    text: events.filter((e) => e.json?.choices?.length).map((e) => e.json.choices[0].delta?.content ?? '').join(''),
    finish: events.filter((e) => e.json?.choices?.[0]?.finish_reason).map((e) => e.json.choices[0].finish_reason),
    error: errors[0]?.json?.error,
  };
}

async function anthropicCall(body, stream) {
  const res = await request(`${warden.url}/anthropic/v1/messages`, {
    method: 'POST',
    headers: { 'x-api-key': CALLER_KEY },
    body: { model: 'fast', max_tokens: 64, stream, messages: body.messages },
  });
  assert.equal(res.status, 200, res.text);
  if (!stream) return { text: res.json.content.filter((b) => b.type === 'text').map((b) => b.text).join('') };
  const events = res.text.split('\n\n').filter((b) => b.trim()).map((b) => ({
    name: /^event: (.*)$/m.exec(b)?.[1],
    data: JSON.parse(/^data: (.*)$/m.exec(b)?.[1] ?? 'null'),
  }));
  const names = events.map((e) => e.name);
  assert.equal(names.at(-1), 'message_stop', names.join(','));
  return {
    text: events.filter((e) => e.data?.delta?.type === 'text_delta').map((e) => e.data.delta.text).join(''),
    names,
    error: events.find((e) => e.name === 'error')?.data?.error,
  };
}

async function nonStreamText(body) {
  const res = await postChat(warden.url, body);
  assert.equal(res.status, 200, res.text);
  return res.json.choices[0].message.content;
}

describe('DLP on: the stream delivers the whole answer', () => {
  const cases = [
    { name: 'plain words, no trailing newline', pieces: ['Hello', ' from', ' fake.'], want: 'Hello from fake.' },
    { name: 'plain words, trailing newline', pieces: ['Hello', ' from', ' fake.\n'], want: 'Hello from fake.\n' },
    { name: 'ends in digits and capitals (held back longest)', pieces: ['Order', ' AB12', ' 4411'], want: 'Order AB12 4411' },
    {
      name: 'a new email split across chunks is redacted, the rest arrives',
      pieces: ['Write to bob.sm', 'ith@other', '.example', ' today'],
      want: 'Write to [REDACTED:EMAIL] today',
    },
    {
      name: 'a placeholder split across chunks is restored at the very end',
      prompt: 'my address is jane.doe@corp.example',
      pieces: ['Sure, <EMA', 'IL_1', '>'],
      want: 'Sure, jane.doe@corp.example',
    },
  ];
  for (const c of cases) {
    test(`OpenAI stream == non-stream: ${c.name}`, async () => {
      script(c.pieces);
      const body = ask(c.prompt ?? 'hi');
      assert.equal(await nonStreamText(body), c.want);
      const s = await openaiStreamText(body);
      assert.equal(s.error, undefined, JSON.stringify(s.error));
      assert.equal(s.text, c.want);
      assert.deepEqual(s.finish, ['stop']);
    });
    test(`Anthropic stream == non-stream: ${c.name}`, async () => {
      script(c.pieces);
      const body = ask(c.prompt ?? 'hi');
      assert.equal((await anthropicCall(body, false)).text, c.want);
      const s = await anthropicCall(body, true);
      assert.equal(s.error, undefined, JSON.stringify(s.error));
      assert.equal(s.text, c.want);
    });
  }

  test('an upstream that ends without finish_reason still delivers the held-back tail', async () => {
    script(['Hello', ' from', ' fake.'], { finish: false });
    const s = await openaiStreamText(ask('hi'));
    assert.equal(s.text, 'Hello from fake.');
    assert.deepEqual(s.finish, ['stop']);
    const a = await anthropicCall(ask('hi'), true);
    assert.equal(a.text, 'Hello from fake.');
  });

  test('a value split across reasoning chunks is redacted, and the reasoning arrives whole before the answer', async () => {
    fake.setDefault(reply.chat({ reasoning: ['Reply to jane.d', 'oe@other.exa', 'mple so'], content: ['Done', '.'] }));
    const want = 'Reply to [REDACTED:EMAIL] so';
    const res = await postChat(warden.url, ask('hi'));
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.choices[0].message.reasoning_content, want);
    const h = openStream(`${warden.url}/v1/chat/completions`, { ...ask('hi'), stream: true });
    await h.done;
    const deltas = h.events().filter((e) => e.json?.choices?.length).map((e) => e.json.choices[0].delta ?? {});
    assert.equal(deltas.map((d) => d.reasoning_content ?? '').join(''), want);
    assert.equal(deltas.map((d) => d.content ?? '').join(''), 'Done.');
    const lastReasoning = deltas.findLastIndex((d) => d.reasoning_content);
    const firstContent = deltas.findIndex((d) => d.content);
    assert.ok(lastReasoning < firstContent, 'all reasoning precedes the answer');
    assert.ok(!h.text().includes('other.exa'), h.text());
  });

  test('a blocked value completed only by the held-back tail still stops the answer', async () => {
    script(['Card: 4111 1111', ' 1111 1111']);
    const s = await openaiStreamText(ask('hi'));
    assert.equal(s.error?.code, 'dlp_blocked', JSON.stringify(s));
    assert.ok(!s.text.includes('1111 1111'), s.text);
  });
});

describe('response filter order: guardrails see what the caller would receive', () => {
  test('a blocked term formed only once DLP restores a placeholder stops the answer', async () => {
    // The prompt itself holds no blocked term; the model's "<EMAIL_1> is down" becomes
    // "ops@corp.example is down" for the caller, which matches the team's blocked term.
    script(['<EMAIL_1>', ' is down']);
    const body = ask('status of ops@corp.example?');
    const res = await postChat(warden.url, body);
    assert.equal(res.status, 400, res.text);
    assert.equal(res.json.error.code, 'content_blocked');
    const s = await openaiStreamText(body);
    assert.equal(s.error?.code, 'content_blocked', JSON.stringify(s));
    assert.ok(!s.text.includes('is down'), s.text);
    const sent = fake.chatRequests().at(-1).rawBody;
    assert.ok(sent.includes('<EMAIL_1>') && !sent.includes('ops@corp.example'), sent);
  });

  test('a blocked term inside a value DLP redacts on output never reaches the caller, so it does not stop the answer', async () => {
    script(['Contact bob@forbidden.example', ' for details.']);
    const want = 'Contact [REDACTED:EMAIL] for details.';
    assert.equal(await nonStreamText(ask('who?')), want);
    const s = await openaiStreamText(ask('who?'));
    assert.equal(s.error, undefined, JSON.stringify(s.error));
    assert.equal(s.text, want);
  });
});
