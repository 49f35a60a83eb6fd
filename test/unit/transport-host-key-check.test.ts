import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { HostKeyError } from '../../src/errors.js';
import { hostKeyAlgorithms } from '../../src/transport/algorithms.js';
import { decideHostKey } from '../../src/transport/host-key-check.js';
import { fingerprint, parseKnownHosts } from '../../src/transport/known-hosts.js';

// An OpenSSH ed25519 public key blob from a fresh key: string "ssh-ed25519" + string(32 bytes).
function edBlob(): Buffer {
  const der = generateKeyPairSync('ed25519').publicKey.export({ format: 'der', type: 'spki' });
  const raw = der.subarray(der.length - 32);
  const str = (b: Buffer): Buffer => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  return Buffer.concat([str(Buffer.from('ssh-ed25519')), str(raw)]);
}

const settings = {
  hostName: 'web1',
  address: '10.0.0.5',
  port: 2222,
  knownHostsFiles: ['/home/op/.ssh/known_hosts', '/inv/known_hosts'],
  acceptNewHostKeys: false,
};

describe('decideHostKey', () => {
  const known = edBlob();
  const other = edBlob();
  const entries = parseKnownHosts(`# c\n[10.0.0.5]:2222 ssh-ed25519 ${known.toString('base64')}\n`, '/inv/known_hosts');

  it('accepts a recorded key', () => {
    expect(decideHostKey(settings, entries, known)).toEqual({ action: 'accept' });
  });

  it('rejects an unknown key with its fingerprint and both fixes', () => {
    const d = decideHostKey(settings, [], known);
    expect(d.action).toBe('reject');
    if (d.action !== 'reject') return;
    expect(d.error).toBeInstanceOf(HostKeyError);
    expect(d.error.kind).toBe('unknown');
    expect(d.error.fingerprint).toBe(fingerprint(known));
    expect(d.error.message).toContain(fingerprint(known));
    expect(d.error.message).toContain('--accept-new-host-keys');
    expect(d.error.message).toContain('ssh-keyscan -p 2222 -t ed25519 10.0.0.5 >> /home/op/.ssh/known_hosts');
  });

  it('records an unknown key when asked, in the write file', () => {
    expect(decideHostKey({ ...settings, acceptNewHostKeys: true, knownHostsWriteFile: '/inv/kh' }, [], known)).toEqual({
      action: 'record',
      file: '/inv/kh',
    });
  });

  it('always rejects a changed key, naming both fingerprints and the recorded line', () => {
    const d = decideHostKey({ ...settings, acceptNewHostKeys: true }, entries, other);
    expect(d.action).toBe('reject');
    if (d.action !== 'reject') return;
    expect(d.error.kind).toBe('changed');
    expect(d.error.fingerprint).toBe(fingerprint(other));
    expect(d.error.message).toContain(fingerprint(known));
    expect(d.error.message).toContain('/inv/known_hosts:2');
    expect(d.error.message).toContain("ssh-keygen -R '[10.0.0.5]:2222'");
  });
});

describe('hostKeyAlgorithms', () => {
  it('prefers ed25519 when nothing is recorded, and never offers SHA-1 RSA then', () => {
    const order = hostKeyAlgorithms([]);
    expect(order[0]).toBe('ssh-ed25519');
    expect(order).not.toContain('ssh-rsa');
  });

  it('puts recorded key types first', () => {
    const order = hostKeyAlgorithms(['ssh-rsa']);
    expect(order.slice(0, 3)).toEqual(['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']);
    expect(order).toContain('ssh-ed25519');
    expect(hostKeyAlgorithms(['ecdsa-sha2-nistp256', 'ssh-ed25519']).slice(0, 2)).toEqual(['ecdsa-sha2-nistp256', 'ssh-ed25519']);
  });
});
