// Traces through a real warden to a real OTLP/HTTP collector (a Node server on port 0):
// one SERVER span per request with gen_ai.* attributes and a CLIENT child per upstream
// attempt; the caller's W3C traceparent is continued and warden answers with its own.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';
import { reply, startFakeUpstream } from '../support/fake_upstream.mjs';
import { eventually, openStream, postChat } from '../support/http.mjs';
import { makeConfig, startWarden } from '../support/warden.mjs';

let fake;
let warden;
let collector;
const received = [];  // every span the collector got, flattened
const posts = [];     // { path, contentType }

function startCollector() {
  return new Promise((resolve) => {
    const server = http.createServer((req, res) => {
      const parts = [];
      req.on('data', (d) => parts.push(d));
      req.on('end', () => {
        posts.push({ path: req.url, contentType: req.headers['content-type'] });
        const doc = JSON.parse(Buffer.concat(parts).toString('utf8'));
        for (const rs of doc.resourceSpans) {
          const service = rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue;
          for (const ss of rs.scopeSpans) for (const s of ss.spans) received.push({ ...s, service });
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{}');
      });
    });
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

const attrs = (span) => Object.fromEntries(span.attributes.map((a) => [a.key, Object.values(a.value)[0]]));

before(async () => {
  collector = await startCollector();
  fake = await startFakeUpstream();
  warden = await startWarden(makeConfig({
    upstream: fake,
    routing: { retries: { max_attempts: 2, base_ms: 1, max_ms: 2 }, circuit_breaker: { failures: 1000000 } },
    extra: { telemetry: { otlp: { endpoint: `http://127.0.0.1:${collector.address().port}`, sample: 1.0 } } },
  }));
});
after(async () => {
  await warden?.stop();
  await fake?.close();
  collector?.close();
});

test('incoming traceparent is continued: server span + attempt child, traceparent answered', async () => {
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const callerSpan = '00f067aa0ba902b7';
  const res = await postChat(warden.url, { model: 'fast', max_tokens: 64, messages: [{ role: 'user', content: 'x' }] }, {
    headers: { authorization: 'Bearer sk-warden-test-caller-7f3a9c', traceparent: `00-${traceId}-${callerSpan}-01` },
  });
  assert.equal(res.status, 200, res.text);
  const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(res.headers.traceparent ?? '');
  assert.ok(m, `traceparent answered: ${res.headers.traceparent}`);
  assert.equal(m[1], traceId);
  assert.notEqual(m[2], callerSpan);
  const wardenSpan = m[2];

  await eventually(() => received.filter((s) => s.traceId === traceId).length >= 2, { what: 'two spans of the trace' });
  const server = received.find((s) => s.spanId === wardenSpan);
  assert.ok(server, 'server span with the answered span id');
  assert.equal(server.parentSpanId, callerSpan);
  assert.equal(server.kind, 2);
  assert.equal(server.name, 'chat fast');
  assert.equal(server.service, 'warden');
  const a = attrs(server);
  assert.equal(a['gen_ai.operation.name'], 'chat');
  assert.equal(a['gen_ai.request.model'], 'fast');
  assert.equal(a['gen_ai.provider.name'], 'up');
  assert.equal(a['gen_ai.response.model'], 'deepseek-v4-flash');
  assert.equal(a['gen_ai.request.max_tokens'], '64');
  assert.equal(a['gen_ai.usage.input_tokens'], '100');   // fake upstream's default usage
  assert.equal(a['gen_ai.usage.output_tokens'], '50');
  assert.equal(a['gen_ai.usage.cache_read.input_tokens'], '64');
  assert.equal(a['gen_ai.usage.reasoning.output_tokens'], '30');
  assert.deepEqual(a['gen_ai.response.finish_reasons'].values.map((v) => v.stringValue), ['stop']);
  assert.ok(BigInt(server.endTimeUnixNano) >= BigInt(server.startTimeUnixNano));

  const child = received.find((s) => s.traceId === traceId && s.parentSpanId === wardenSpan);
  assert.ok(child, 'attempt span under the server span');
  assert.equal(child.kind, 3);
  assert.equal(child.name, 'chat deepseek-v4-flash');
  const c = attrs(child);
  assert.equal(c['server.address'], '127.0.0.1');
  assert.equal(c['server.port'], String(new URL(fake.url).port));
  assert.equal(c['http.response.status_code'], '200');
  assert.ok(posts.every((p) => p.path === '/v1/traces' && p.contentType === 'application/json'));
});

test('a retried request has one child span per attempt; the failed one is an error', async () => {
  fake.reset();
  fake.enqueue(reply.error(503, 'busy', { type: 'server_error' }));
  const h = openStream(`${warden.url}/v1/chat/completions`, { model: 'pro', stream: true, messages: [{ role: 'user', content: 'x' }] });
  await h.ready;
  assert.equal(h.status, 200);
  await h.done;
  const tp = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(h.headers.traceparent ?? '');
  assert.ok(tp, 'a fresh trace when the caller sent none');
  await eventually(() => received.filter((s) => s.traceId === tp[1]).length >= 3, { what: 'server span + two attempts' });
  const children = received.filter((s) => s.traceId === tp[1] && s.parentSpanId === tp[2])
    .sort((x, y) => Number(BigInt(x.startTimeUnixNano) - BigInt(y.startTimeUnixNano)));
  assert.equal(children.length, 2);
  assert.equal(children[0].status.code, 2);
  assert.equal(attrs(children[0])['http.response.status_code'], '503');
  assert.equal(attrs(children[0])['warden.attempt'], '1');
  assert.equal(attrs(children[1])['warden.attempt'], '2');
  assert.notEqual(children[1].status.code, 2);
  const server = received.find((s) => s.spanId === tp[2]);
  assert.equal(attrs(server)['gen_ai.request.stream'], true);
  assert.equal(attrs(server)['warden.attempts'], '2');
});

test('an unsampled caller trace produces no spans but still gets a traceparent', async () => {
  const traceId = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1';
  const res = await postChat(warden.url, { model: 'fast', messages: [{ role: 'user', content: 'x' }] }, {
    headers: { authorization: 'Bearer sk-warden-test-caller-7f3a9c', traceparent: `00-${traceId}-00f067aa0ba902b7-00` },
  });
  assert.equal(res.status, 200);
  assert.match(res.headers.traceparent, new RegExp(`^00-${traceId}-[0-9a-f]{16}-00$`));
  // A later sampled request's spans arriving proves the exporter flushed past this one.
  const probe = await postChat(warden.url, { model: 'fast', messages: [{ role: 'user', content: 'y' }] });
  const probeTrace = probe.headers.traceparent.split('-')[1];
  await eventually(() => received.some((s) => s.traceId === probeTrace), { what: 'probe span' });
  assert.equal(received.filter((s) => s.traceId === traceId).length, 0);
});
