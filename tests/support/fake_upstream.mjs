// A fake DeepSeek (OpenAI-format) upstream: a real HTTP or HTTPS server on a loopback
// port 0, scriptable per request, that records every request it received so tests can
// assert what actually reached the provider.
//
// Which script answers a request, first match wins:
//   1. fake.enqueue(script)          one-shot scripts, in order
//   2. fake.when(predicate, script)  persistent rules, predicate(record) → bool
//      (fake.forModel(name, script), fake.forHeader(name, value, script) are shorthands)
//   3. fake.setDefault(script)       default: reply.chat() (adapts to stream / non-stream)
// A script is `async (ctx) => {}` with ctx = { req, res, record, fake }; the builders in
// `reply` cover the DeepSeek behaviours (reasoning, tool-call fragments, keep-alives,
// usage with cache tokens, errors, hangs, resets, slow drip).
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { testPki } from './pki.mjs';

export function deferred() {
  let resolve, reject;
  const promise = new Promise((res, rej) => { resolve = res; reject = rej; });
  return { promise, resolve, reject };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let chunkSeq = 0;

// ---- OpenAI/DeepSeek stream chunk builders -------------------------------------------
export const chunk = {
  base(model, delta, finish = null, extra = {}) {
    return {
      id: extra.id ?? 'chatcmpl-fake-1', object: 'chat.completion.chunk', created: 1741668925,
      model: model ?? 'deepseek-v4-flash', system_fingerprint: 'fp_fake',
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    };
  },
  role(model) { return chunk.base(model, { role: 'assistant', content: '' }); },
  reasoning(text, model) { return chunk.base(model, { content: null, reasoning_content: text }); },
  content(text, model) { return chunk.base(model, { content: text }); },
  toolStart(index, id, name, model, args = '') {
    return chunk.base(model, { role: 'assistant', content: null, tool_calls: [{ index, id, type: 'function', function: { name, arguments: args } }] });
  },
  toolArgs(index, fragment, model) {
    return chunk.base(model, { tool_calls: [{ index, function: { arguments: fragment } }] });
  },
  finish(reason, model) { return chunk.base(model, {}, reason); },
  usage(usage, model) {
    const c = chunk.base(model, {});
    c.choices = [];
    c.usage = usage;
    return c;
  },
};

export const defaultUsage = {
  prompt_tokens: 100, completion_tokens: 50, total_tokens: 150,
  prompt_cache_hit_tokens: 64, prompt_cache_miss_tokens: 36,
  prompt_tokens_details: { cached_tokens: 64 },
  completion_tokens_details: { reasoning_tokens: 30 },
};

// A non-stream DeepSeek completion body.
export function completionBody({ model = 'deepseek-v4-flash', content = 'Hello from fake upstream.',
  reasoning = null, toolCalls = null, finish = null, usage = defaultUsage } = {}) {
  const message = { role: 'assistant', content };
  if (reasoning !== null) message.reasoning_content = reasoning;
  if (toolCalls) message.tool_calls = toolCalls;
  return {
    id: 'chatcmpl-fake-1', object: 'chat.completion', created: 1741668925, model,
    system_fingerprint: 'fp_fake',
    choices: [{ index: 0, message, logprobs: null, finish_reason: finish ?? (toolCalls ? 'tool_calls' : 'stop') }],
    usage,
  };
}

// The chunk list DeepSeek would stream for the same answer: role, reasoning pieces,
// content pieces or tool-call fragments, finish, and the usage chunk only when the
// request asked for it (stream_options.include_usage), with usage:null on the others.
export function streamSteps(request, { content = ['Hello', ' from', ' fake', ' upstream.'],
  reasoning = [], toolCalls = [], finish = null, usage = defaultUsage } = {}) {
  const model = request?.model;
  const includeUsage = request?.stream_options?.include_usage === true;
  const out = [chunk.role(model)];
  for (const r of reasoning) out.push(chunk.reasoning(r, model));
  for (const c of content) out.push(chunk.content(c, model));
  toolCalls.forEach((tc, i) => {
    out.push(chunk.toolStart(i, tc.id, tc.name, model));
    for (const frag of tc.fragments) out.push(chunk.toolArgs(i, frag, model));
  });
  out.push(chunk.finish(finish ?? (toolCalls.length ? 'tool_calls' : 'stop'), model));
  if (includeUsage) {
    for (const c of out) c.usage = null;
    out.push(chunk.usage(usage, model));
  }
  out.push('[DONE]');
  return out;
}

// ---- scripts ---------------------------------------------------------------------------
function writeStep(res, step) {
  if (typeof step === 'string') {
    if (step === '[DONE]') return res.write('data: [DONE]\n\n');
    if (step.startsWith(':')) return res.write(`${step}\n\n`);
    return res.write(step);
  }
  return res.write(`data: ${JSON.stringify(step)}\n\n`);
}

export const reply = {
  // Plain JSON answer with any status.
  json(body, { status = 200, headers = {} } = {}) {
    return async ({ res }) => {
      const text = typeof body === 'string' ? body : JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
      res.end(text);
    };
  },

  // DeepSeek-shaped error: {"error":{message,type,param:null,code}}.
  error(status, message, { type = 'invalid_request_error', code = null, headers = {} } = {}) {
    return reply.json({ error: { message, type, param: null, code } }, { status, headers });
  },

  // Answers like DeepSeek: a stream when the request asked for one, else one JSON body.
  // Options are those of completionBody / streamSteps (content as string or pieces).
  // keepAliveLines: blank lines sent before a non-stream body (DeepSeek queueing).
  chat(opts = {}) {
    return async (ctx) => {
      const req = ctx.record.json ?? {};
      if (req.stream) {
        const pieces = typeof opts.content === 'string' ? [opts.content] : opts.content;
        const steps = streamSteps(req, { ...opts, content: pieces ?? undefined });
        return reply.stream(steps, opts)(ctx);
      }
      const content = Array.isArray(opts.content) ? opts.content.join('') : opts.content;
      const reasoning = Array.isArray(opts.reasoning) ? opts.reasoning.join('') : opts.reasoning;
      const toolCalls = opts.toolCalls?.map((tc) => ({ id: tc.id, type: 'function', function: { name: tc.name, arguments: tc.fragments.join('') } }));
      const body = JSON.stringify(completionBody({ model: req.model, ...opts, content, reasoning: reasoning ?? null, toolCalls }));
      ctx.res.writeHead(200, { 'content-type': 'application/json' });
      for (let i = 0; i < (opts.keepAliveLines ?? 0); i++) {
        if (ctx.record.clientClosed) return;
        ctx.res.write('\n');
        await sleep(opts.keepAliveEveryMs ?? 20);
      }
      ctx.res.end(body);
    };
  },

  // SSE stream of steps: chunk objects (data: JSON), '[DONE]', ': comment' strings, raw
  // strings, {sleep: ms}, {wait: promise}, {reset: true} (TCP RST), {hang: true},
  // {end: true}. delayMs: pause between steps (slow drip).
  stream(steps, { headers = {}, delayMs = 0 } = {}) {
    return async ({ res, record }) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...headers });
      res.flushHeaders();
      for (const step of steps) {
        if (record.clientClosed) return;
        if (step && typeof step === 'object' && !Array.isArray(step)) {
          if ('sleep' in step) { await sleep(step.sleep); continue; }
          if ('wait' in step) { await Promise.race([step.wait, record.closed]); continue; }
          if (step.reset) {
            // Let what was written leave first, so the peer sees the chunks, then RST.
            await new Promise((r) => res.write('', r));
            await sleep(50);
            res.socket?.resetAndDestroy();
            return;
          }
          if (step.hang) { await record.closed; return; }
          if (step.end) { res.end(); return; }
        }
        writeStep(res, step);
        if (delayMs) await sleep(delayMs);
      }
      res.end();
    };
  },

  // Accept the request and never send a byte (until the peer goes away).
  hang() {
    return async ({ record }) => { await record.closed; };
  },

  // Reset the connection without answering.
  reset() {
    return async ({ res }) => { res.socket?.resetAndDestroy(); };
  },

  // GET /models answer.
  models(ids = ['deepseek-v4-flash', 'deepseek-v4-pro']) {
    return reply.json({ object: 'list', data: ids.map((id) => ({ id, object: 'model', owned_by: 'deepseek' })) });
  },
};

// ---- the server ------------------------------------------------------------------------
export async function startFakeUpstream({ tls = false, certFile, keyFile } = {}) {
  const requests = [];
  const queue = [];
  const rules = [];
  let defaultScript = reply.chat();
  const waiters = new Set();
  const sockets = new Set();

  const notify = () => { for (const w of waiters) w(); };

  const handler = (req, res) => {
    const bodyParts = [];
    const closed = deferred();
    const record = {
      seq: requests.length, method: req.method, path: req.url, headers: req.headers,
      rawBody: '', json: null, receivedAt: Date.now(), servername: req.socket.servername,
      finished: false, clientClosed: false, closed: closed.promise,
    };
    requests.push(record);
    // 'close' on the response before we ended it means the peer went away.
    res.on('close', () => {
      if (!res.writableFinished) record.clientClosed = true;
      record.closedAt = Date.now();
      closed.resolve();
      notify();
    });
    req.on('data', (d) => bodyParts.push(d));
    req.on('end', async () => {
      record.rawBody = Buffer.concat(bodyParts).toString('utf8');
      try { record.json = record.rawBody ? JSON.parse(record.rawBody) : null; } catch { record.json = null; }
      record.bodyComplete = true;
      notify();
      let script = queue.shift();
      if (!script) script = rules.find((r) => r.pred(record))?.script;
      if (!script) script = /\/models$/.test(req.url.split('?')[0]) && req.method === 'GET' ? reply.models() : defaultScript;
      try {
        await script({ req, res, record, fake });
      } catch (e) {
        record.scriptError = e;
        res.destroy();
      }
      record.finished = true;
      notify();
    });
  };

  let server;
  if (tls) {
    const pki = testPki();
    server = https.createServer({
      cert: fs.readFileSync(certFile ?? pki.certFile), key: fs.readFileSync(keyFile ?? pki.keyFile),
    }, handler);
    server.on('tlsClientError', (err) => { fake.tlsErrors.push(err.message); notify(); });
  } else {
    server = http.createServer(handler);
  }
  server.keepAliveTimeout = 30000;
  server.on('connection', (s) => {
    sockets.add(s);
    fake.connections++;
    s.on('close', () => sockets.delete(s));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = server.address().port;

  const fake = {
    port,
    url: `${tls ? 'https' : 'http'}://${tls ? 'localhost' : '127.0.0.1'}:${port}`,
    requests,
    tlsErrors: [],
    connections: 0,
    enqueue(...scripts) { queue.push(...scripts); return fake; },
    when(pred, script) { rules.push({ pred, script }); return fake; },
    // Persistent script for requests whose (upstream) model is `model`.
    forModel(model, script) { return fake.when((r) => r.json?.model === model, script); },
    // Persistent script for requests carrying header `name` (optionally = value).
    forHeader(name, value, script) {
      return fake.when((r) => r.headers[name.toLowerCase()] !== undefined && (value === undefined || r.headers[name.toLowerCase()] === value), script);
    },
    setDefault(script) { defaultScript = script; return fake; },
    reset() { requests.length = 0; queue.length = 0; rules.length = 0; defaultScript = reply.chat(); fake.tlsErrors.length = 0; },
    // Chat requests only (not /models etc.).
    chatRequests() { return requests.filter((r) => r.path.includes('chat/completions')); },
    last() { return requests[requests.length - 1]; },
    // Resolve when pred() holds, checked on every request event; reject after timeoutMs.
    waitFor(pred, timeoutMs = 5000, what = 'condition') {
      return new Promise((resolve, reject) => {
        const check = () => {
          let v;
          try { v = pred(); } catch (e) { v = false; }
          if (v) { waiters.delete(check); clearTimeout(timer); resolve(v); }
        };
        const timer = setTimeout(() => { waiters.delete(check); reject(new Error(`fake upstream: timed out waiting for ${what}`)); }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    waitForRequest(n = 1, timeoutMs = 5000) {
      return fake.waitFor(() => fake.chatRequests().length >= n && fake.chatRequests()[n - 1], timeoutMs, `request #${n}`);
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(() => resolve()));
    },
  };
  return fake;
}
