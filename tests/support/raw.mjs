// Raw TCP clients for tests that need bytes no HTTP library sends (bad framing, huge
// heads) or sockets held in a precise state (idle keep-alive, half-closed after a request).
import net from 'node:net';

// Connects to 127.0.0.1:port; resolves once connected.
export function rawConnect(port) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

// Everything the socket receives until the peer closes (or timeoutMs, as a bound for a
// failing run): { text, closed }. Errors (a reset after the answer) end the read.
export function readAll(s, { timeoutMs = 10000 } = {}) {
  return new Promise((resolve) => {
    const parts = [];
    let done = false;
    const finish = (closed) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ text: Buffer.concat(parts).toString('latin1'), closed });
    };
    const timer = setTimeout(() => { finish(false); s.destroy(); }, timeoutMs);
    s.on('data', (d) => parts.push(d));
    s.on('error', () => finish(true));
    s.on('end', () => finish(true));
    s.on('close', () => finish(true));
  });
}

// Writes `bytes` on a fresh connection and reads until the peer closes.
export async function rawExchange(port, bytes, opts) {
  const s = await rawConnect(port);
  s.on('error', () => {});
  const reading = readAll(s, opts);
  s.write(bytes);
  return reading;
}

// Status codes of the HTTP responses in `text`, in order.
export const statuses = (text) => [...text.matchAll(/HTTP\/1\.[01] (\d{3})/g)].map((m) => Number(m[1]));

// Resolves with the next complete response head + body read from `s` (Content-Length framed).
export function readResponse(s, { timeoutMs = 10000 } = {}) {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => { cleanup(); reject(new Error('no response within bound')); }, timeoutMs);
    const onData = (d) => {
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buf.subarray(0, end).toString('latin1');
      const len = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? 0);
      if (buf.length < end + 4 + len) return;
      cleanup();
      resolve({ status: Number(head.split(' ')[1]), head, body: buf.subarray(end + 4, end + 4 + len).toString('utf8') });
    };
    const onClose = () => { cleanup(); reject(new Error('connection closed before a response')); };
    function cleanup() { clearTimeout(timer); s.off('data', onData); s.off('close', onClose); }
    s.on('data', onData);
    s.on('close', onClose);
  });
}

// A complete HTTP/1.1 request as bytes.
export function httpRequest(method, path, { headers = {}, body } = {}) {
  const data = body === undefined ? '' : (typeof body === 'string' ? body : JSON.stringify(body));
  const h = { host: '127.0.0.1', ...headers };
  if (body !== undefined) {
    h['content-type'] ??= 'application/json';
    h['content-length'] = Buffer.byteLength(data);
  }
  return `${method} ${path} HTTP/1.1\r\n${Object.entries(h).map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n${data}`;
}
