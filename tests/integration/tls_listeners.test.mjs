// Issue 14 item 11: warden's TLS listeners accept forward-secret AEAD suites only (TLS 1.2:
// ECDHE + AES-GCM / ChaCha20-Poly1305; TLS 1.3), never static-RSA or CBC suites such as
// AES128-SHA or AES256-SHA256; and the admin listener serves TLS when asked
// (`server.admin_tls: main` or its own {cert, key}), so the admin token is never sent in
// clear. Probed with the openssl CLI against a real `warden serve` with an RSA key (the
// one key type that can negotiate the static-RSA suites at all).
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import https from 'node:https';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { startFakeUpstream } from '../support/fake_upstream.mjs';
import { makeConfig, startWarden, tempDir } from '../support/warden.mjs';

const ADMIN_TOKEN = 'admin-token-tls-test-5c21e9';

let fake;
let pki;
before(async () => {
  fake = await startFakeUpstream();
  const dir = tempDir('warden-tls-rsa-');
  const run = (args) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'rsa.key', '-out', 'rsa.pem', '-days', '2',
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1']);
  pki = { cert: path.join(dir, 'rsa.pem'), key: path.join(dir, 'rsa.key') };
});
after(async () => { await fake?.close(); });

// One TLS handshake with `openssl s_client`; true when it completed.
function handshake(port, args) {
  const r = spawnSync('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'localhost', ...args],
    { input: '', timeout: 10000, encoding: 'utf8' });
  const out = `${r.stdout}\n${r.stderr}`;
  const cipher = /Cipher is (\S+)/.exec(out)?.[1];
  return { ok: r.status === 0 && cipher && cipher !== '(NONE)', cipher, out };
}

function httpsGet(url, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { headers, ca: undefined, rejectUnauthorized: false, agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('error', reject);
    req.setTimeout(10000, () => req.destroy(new Error('timeout')));
  });
}

describe('TLS cipher policy on the main and admin listeners', () => {
  let warden;
  let adminPort;
  before(async () => {
    warden = await startWarden(makeConfig({
      upstream: fake,
      server: { tls: { cert: pki.cert, key: pki.key }, admin_listen: '127.0.0.1:0', admin_token: ADMIN_TOKEN, admin_tls: 'main' },
    }));
    adminPort = Number(/admin listening on \S+:(\d+) \(tls\)/.exec(warden.logs())?.[1]);
    assert.ok(adminPort > 0, warden.logs());
  });
  after(async () => { await warden?.stop(); });

  const refused = ['AES128-SHA', 'AES256-SHA256', 'AES128-GCM-SHA256', 'ECDHE-RSA-AES128-SHA', 'ECDHE-RSA-AES256-SHA384'];
  const accepted = ['ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES256-GCM-SHA384', 'ECDHE-RSA-CHACHA20-POLY1305'];

  for (const which of ['main', 'admin']) {
    test(`${which}: TLS 1.2 refuses non-forward-secret and CBC suites`, () => {
      const port = which === 'main' ? warden.port : adminPort;
      for (const c of refused) {
        const h = handshake(port, ['-tls1_2', '-cipher', c]);
        assert.equal(h.ok, false, `${c} was accepted (${h.cipher})`);
      }
    });
    test(`${which}: TLS 1.2 ECDHE+AEAD and TLS 1.3 handshake`, () => {
      const port = which === 'main' ? warden.port : adminPort;
      for (const c of accepted) {
        const h = handshake(port, ['-tls1_2', '-cipher', c]);
        assert.ok(h.ok, `${c} refused:\n${h.out.slice(-600)}`);
        assert.equal(h.cipher, c);
      }
      const t13 = handshake(port, ['-tls1_3']);
      assert.ok(t13.ok, t13.out.slice(-600));
      assert.equal(handshake(port, ['-tls1_1']).ok, false, 'TLS 1.1 refused');
    });
  }

  test('the admin API answers over TLS (and not in clear)', async () => {
    const res = await httpsGet(`https://127.0.0.1:${adminPort}/metrics`, { authorization: `Bearer ${ADMIN_TOKEN}` });
    assert.equal(res.status, 200);
    assert.match(res.body, /warden_/);
    const plain = await fetch(`http://127.0.0.1:${adminPort}/metrics`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
      .then((r) => r.status, () => 'refused');
    assert.notEqual(plain, 200, 'plain HTTP must not reach the admin API');
  });
});

test('admin_tls with its own files; `main` without server.tls is a config error', async () => {
  const warden = await startWarden(makeConfig({
    upstream: fake,
    server: { admin_listen: '127.0.0.1:0', admin_token: ADMIN_TOKEN, admin_tls: { cert: pki.cert, key: pki.key } },
  }));
  try {
    const port = Number(/admin listening on \S+:(\d+) \(tls\)/.exec(warden.logs())?.[1]);
    assert.ok(port > 0, warden.logs());
    assert.ok(handshake(port, ['-tls1_2', '-cipher', 'ECDHE-RSA-AES128-GCM-SHA256']).ok);
    assert.equal(handshake(port, ['-tls1_2', '-cipher', 'AES128-SHA']).ok, false);
    const res = await fetch(`${warden.url}/healthz`);
    assert.equal(res.status, 200, 'the main listener stays plain HTTP');
  } finally {
    await warden.stop();
  }
  await assert.rejects(startWarden(makeConfig({
    upstream: fake, server: { admin_listen: '127.0.0.1:0', admin_token: ADMIN_TOKEN, admin_tls: 'main' },
  }), { startTimeoutMs: 10000 }), /server\.admin_tls: 'main' needs server\.tls/);
});
