// Anthropic Messages streams under upstream faults: a mid-stream reset ends the stream with
// an `error` event after closing the open block (and is not retried); upstream keep-alives
// after the answer started become `ping`; an Anthropic-format upstream's in-band
// overloaded_error before any content is retried like a 529.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { chunk, reply, startFakeUpstream } from '../support/fake_upstream.mjs';
import { anthropicMessage, anthropicStreamSteps } from '../support/fault_upstream.mjs';
import { CALLER_KEY, makeConfig, PROVIDER_KEY, startWarden } from '../support/warden.mjs';

let oai;
let ant;
let warden;
before(async () => {
  oai = await startFakeUpstream();
  ant = await startFakeUpstream();
  const cfg = makeConfig({ upstream: oai });
  cfg.providers.claude = { type: 'anthropic', base_url: ant.url, api_key: PROVIDER_KEY };
  cfg.models.claude = { targets: [{ provider: 'claude', model: 'claude-up' }] };
  cfg.routing = { retries: { max_attempts: 3, base_ms: 10, max_ms: 50 } };
  warden = await startWarden(cfg);
});
after(async () => {
  await warden?.stop();
  await oai?.close();
  await ant?.close();
});

async function streamMessages(model) {
  const res = await fetch(`${warden.url}/anthropic/v1/messages`, {
    method: 'POST', headers: { 'x-api-key': CALLER_KEY, 'content-type': 'application/json' },
    body: JSON.stringify({ model, max_tokens: 64, stream: true, messages: [{ role: 'user', content: 'hi' }] }),
  });
  const text = await res.text();
  const events = text.split('\n\n').filter((b) => b.trim()).map((b) => {
    const name = /^event: (.*)$/m.exec(b)?.[1];
    const data = /^data: (.*)$/m.exec(b)?.[1];
    return { name, data: data ? JSON.parse(data) : undefined };
  });
  return { res, events, names: events.map((e) => e.name) };
}

test('reset mid-stream: block closed, error event, message_stop; no retry', async () => {
  oai.reset();
  oai.setDefault(reply.stream([chunk.role(), chunk.content('Hel'), { sleep: 30 }, { reset: true }]));
  const { res, events, names } = await streamMessages('fast');
  assert.equal(res.status, 200);
  assert.deepEqual(names, ['message_start', 'content_block_start', 'content_block_delta', 'content_block_stop', 'error', 'message_delta', 'message_stop']);
  assert.equal(events[2].data.delta.text, 'Hel');
  assert.equal(events[4].data.type, 'error');
  assert.equal(typeof events[4].data.error.message, 'string');
  assert.equal(oai.chatRequests().length, 1);
});

test('keep-alives after the answer started become ping events', async () => {
  oai.reset();
  oai.setDefault(reply.stream([chunk.role(), chunk.content('a'), ': keep-alive', chunk.content('b'), chunk.finish('stop'), '[DONE]']));
  const { names, events } = await streamMessages('fast');
  assert.ok(names.includes('ping'), names.join(','));
  const text = events.filter((e) => e.data?.delta?.type === 'text_delta').map((e) => e.data.delta.text).join('');
  assert.equal(text, 'ab');
  assert.deepEqual(names.slice(-2), ['message_delta', 'message_stop']);
});

test('Anthropic upstream: in-band overloaded_error before content is retried', async () => {
  ant.reset();
  const msg = anthropicMessage({ model: 'claude-up', blocks: [{ type: 'text', text: 'second time lucky' }] });
  const [start] = anthropicStreamSteps(msg);
  const overloaded = `event: error\ndata: ${JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } })}\n\n`;
  ant.enqueue(reply.stream([start, overloaded]));
  ant.setDefault(reply.stream(anthropicStreamSteps(msg)));
  const { res, events, names } = await streamMessages('claude');
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('x-warden-attempts'), '2');
  assert.equal(names.filter((n) => n === 'message_start').length, 1);
  assert.ok(!names.includes('error'), names.join(','));
  const text = events.filter((e) => e.data?.delta?.type === 'text_delta').map((e) => e.data.delta.text).join('');
  assert.equal(text, 'second time lucky');
  assert.equal(ant.requests.length, 2);
});
