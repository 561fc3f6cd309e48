// Test PKI made at test time with the openssl CLI: a CA, a server certificate for
// localhost/127.0.0.1 signed by it, a second unrelated CA (for "wrong CA" tests) and a
// certificate signed by the good CA for another host name (hostname verification).
// Generated once per process into a temp dir that is removed on exit.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

let cached = null;

function openssl(args, cwd) {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
}

function makeCa(dir, name) {
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '2', '-subj', `/CN=${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
}

function makeLeaf(dir, name, ca, san) {
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`], dir);
  fs.writeFileSync(path.join(dir, `${name}.ext`),
    `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n` +
    `extendedKeyUsage=serverAuth\nsubjectAltName=${san}\n`);
  openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`,
    '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.ext`], dir);
}

export function testPki() {
  if (cached) return cached;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warden-pki-'));
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  makeCa(dir, 'test-ca');
  makeCa(dir, 'other-ca');
  makeLeaf(dir, 'server', 'test-ca', 'DNS:localhost,IP:127.0.0.1');
  makeLeaf(dir, 'wronghost', 'test-ca', 'DNS:not-this-host.invalid');
  const p = (f) => path.join(dir, f);
  cached = {
    dir,
    caFile: p('test-ca.pem'),
    otherCaFile: p('other-ca.pem'),
    certFile: p('server.pem'),
    keyFile: p('server.key'),
    wrongHostCertFile: p('wronghost.pem'),
    wrongHostKeyFile: p('wronghost.key'),
  };
  return cached;
}
