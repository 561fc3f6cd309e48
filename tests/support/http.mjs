// Minimal HTTP client helpers over node:http with one fresh connection per call (so a
// test controls exactly which socket it holds), an SSE reader that keeps raw bytes and
// arrival order, and OpenAI error-shape assertions.
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { CALLER_KEY } from './warden.mjs';

export const auth = (key = CALLER_KEY) => ({ authorization: `Bearer ${key}` });

function parseJson(text) {
  try { return JSON.parse(text); } catch { return undefined; }
}

// One request; resolves with { status, headers, text, json }.
export function request(url, { method = 'GET', headers = {}, body, timeoutMs = 10000 } = {}) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : (typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body));
    const h = { ...headers };
    if (data !== undefined) {
      h['content-length'] ??= Buffer.byteLength(data);
      h['content-type'] ??= 'application/json';
    }
    const req = http.request(url, { method, headers: h, agent: false }, (res) => {
      const parts = [];
      res.on('data', (d) => parts.push(d));
      res.on('end', () => {
        clearTimeout(timer);
        const text = Buffer.concat(parts).toString('utf8');
        resolve({ status: res.statusCode, headers: res.headers, text, json: parseJson(text) });
      });
      res.on('error', (e) => { clearTimeout(timer); reject(e); });
    });
    const timer = setTimeout(() => req.destroy(new Error(`request ${method} ${url} timed out after ${timeoutMs} ms`)), timeoutMs);
    req.on('error', (e) => { clearTimeout(timer); reject(e); });
    if (data !== undefined) req.write(data);
    req.end();
  });
}

export const postChat = (base, body, { headers = auth(), ...opts } = {}) =>
  request(`${base}/v1/chat/completions`, { method: 'POST', headers, body, ...opts });

// Parse SSE text into events: { comment } for ':' lines, { data, json } for data events.
export function parseSse(text) {
  const events = [];
  for (const block of text.split(/\r?\n\r?\n/)) {
    if (!block.trim()) continue;
    const data = [];
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith(':')) events.push({ comment: line.slice(1).trim() });
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
    }
    if (data.length) {
      const d = data.join('\n');
      events.push({ data: d, json: d === '[DONE]' ? undefined : parseJson(d) });
    }
  }
  return events;
}

// Open a streaming POST. Returns a handle:
//   status, headers                      once the response head arrived (await handle.ready)
//   text()                               all bytes received so far
//   events()                             parseSse(text())
//   waitForText(pred|substring, ms)      resolves once received text satisfies pred
//   done                                 resolves { complete, error } when the response ends/aborts
//   abort()                              destroy the client socket
export function openStream(url, body, { headers = auth(), timeoutMs = 15000 } = {}) {
  const data = JSON.stringify(body);
  let text = '';
  const waiters = new Set();
  const notify = () => { for (const w of waiters) w(); };
  let resolveReady, rejectReady, resolveDone;
  const ready = new Promise((res, rej) => { resolveReady = res; rejectReady = rej; });
  const done = new Promise((res) => { resolveDone = res; });
  const handle = { ready, done, status: undefined, headers: undefined, ended: false, arrivals: [] };
  let finished = false;
  const finish = (v) => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    handle.ended = true;
    notify();
    resolveDone(v);
  };
  const req = http.request(url, {
    method: 'POST', agent: false,
    headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data), ...headers },
  }, (res) => {
    handle.status = res.statusCode;
    handle.headers = res.headers;
    resolveReady(handle);
    res.setEncoding('utf8');
    res.on('data', (d) => { text += d; handle.arrivals.push(d); notify(); });
    res.on('end', () => finish({ complete: true }));
    res.on('aborted', () => finish({ complete: false, error: 'aborted' }));
    res.on('error', (e) => finish({ complete: false, error: e.message }));
    res.on('close', () => finish({ complete: res.complete, error: res.complete ? undefined : 'closed' }));
  });
  const timer = setTimeout(() => { req.destroy(new Error('stream timed out')); }, timeoutMs);
  req.on('error', (e) => { rejectReady(e); finish({ complete: false, error: e.message }); });
  req.write(data);
  req.end();

  handle.text = () => text;
  handle.events = () => parseSse(text);
  handle.abort = () => { req.destroy(); };
  handle.waitForText = (pred, ms = 5000) => {
    const test = typeof pred === 'string' ? () => text.includes(pred) : () => pred(text);
    return new Promise((resolve, reject) => {
      const check = () => {
        if (test()) { cleanup(); resolve(text); } else if (handle.ended) { cleanup(); reject(new Error(`stream ended before expected text; got:\n${text}`)); }
      };
      const t = setTimeout(() => { cleanup(); reject(new Error(`timed out waiting for stream text; got:\n${text}`)); }, ms);
      const cleanup = () => { clearTimeout(t); waiters.delete(check); };
      waiters.add(check);
      check();
    });
  };
  return handle;
}

// Try a TCP connect; resolves true if it connected, false if refused.
export function canConnect(port, host = '127.0.0.1', timeoutMs = 2000) {
  return new Promise((resolve) => {
    const s = net.connect(port, host);
    const t = setTimeout(() => { s.destroy(); resolve(false); }, timeoutMs);
    s.on('connect', () => { clearTimeout(t); s.destroy(); resolve(true); });
    s.on('error', () => { clearTimeout(t); resolve(false); });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Poll an async predicate until it holds (bounded).
export async function eventually(fn, { timeoutMs = 5000, everyMs = 25, what = 'condition' } = {}) {
  const end = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try { last = await fn(); if (last) return last; } catch (e) { last = e; }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what} (last: ${last})`);
    await sleep(everyMs);
  }
}

// Assert an OpenAI-shaped error body: {"error":{"message","type","param","code"}}.
export function assertOpenAIError(res, { status, code, messageIncludes } = {}) {
  if (status !== undefined) assert.equal(res.status, status, `status; body: ${res.text}`);
  assert.ok(res.json && typeof res.json === 'object', `error body is JSON: ${res.text}`);
  const e = res.json.error;
  assert.ok(e && typeof e === 'object', `has "error" object: ${res.text}`);
  assert.equal(typeof e.message, 'string', 'error.message is a string');
  assert.ok(e.message.length > 0, 'error.message not empty');
  assert.equal(typeof e.type, 'string', 'error.type is a string');
  assert.ok('param' in e, 'error.param present');
  assert.ok('code' in e, 'error.code present');
  if (code !== undefined) assert.equal(e.code, code, `error.code; body: ${res.text}`);
  if (messageIncludes !== undefined) assert.ok(e.message.includes(messageIncludes), `message "${e.message}" includes "${messageIncludes}"`);
  const ct = res.headers?.['content-type'] ?? '';
  assert.match(ct, /application\/json/, 'content-type is JSON');
  return e;
}

// Assert logs carry none of the given secrets / prompt fragments.
export function assertLogsClean(logs, secrets) {
  for (const s of secrets) assert.ok(!logs.includes(s), `logs must not contain "${s.slice(0, 12)}…"`);
}

// The error a stream ended with: the JSON error body when the status is not 200, else
// the `data: {"error":{...}}` event (the last error event). Returns { status, error, inBand }.
export function streamError(h) {
  if (h.status !== 200) {
    let json;
    try { json = JSON.parse(h.text()); } catch { json = undefined; }
    return { status: h.status, error: json?.error, inBand: false };
  }
  const errs = h.events().filter((e) => e.json?.error);
  return { status: 200, error: errs.at(-1)?.json.error, inBand: true };
}

// Assert a stream failed with an OpenAI-shaped error (in-band event or HTTP error).
export function assertStreamError(h, { code, status } = {}) {
  const r = streamError(h);
  assert.ok(r.error, `stream carries an error; got status ${h.status}:\n${h.text()}`);
  assert.equal(typeof r.error.message, 'string');
  assert.ok(r.error.message.length > 0);
  assert.equal(typeof r.error.type, 'string');
  assert.ok('code' in r.error, 'error.code present');
  if (code !== undefined) assert.equal(r.error.code, code, `error.code in ${h.text()}`);
  if (status !== undefined && !r.inBand) assert.equal(r.status, status);
  return r;
}
