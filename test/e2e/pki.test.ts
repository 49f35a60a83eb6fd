// Internal TLS on the lab (playbooks/tls.yml, the TLS contract): every host holds the inventory
// CA's certificate, a key of its own (root:foobar-tls 0640) and a certificate for its name and
// address that `openssl verify` accepts against that CA, and a second apply changes nothing in one
// round trip per host.
import { X509Certificate } from 'node:crypto';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseReport, runCli } from '../helpers/cli.js';
import { REPO, labHosts, onHost } from '../helpers/lab.js';

const apply = () => runCli(['apply', '--inventory', 'lab', '--playbook', 'playbooks/tls.yml', '--json', '--yes'], { cwd: REPO });
let ca: X509Certificate;

beforeAll(async () => {
  const view = await runCli(['vault', 'view', 'inventory/lab.vault.yml'], { cwd: REPO });
  expect(view.code).toBe(0);
  ca = new X509Certificate((parse(view.stdout) as { internal_ca_cert: string }).internal_ca_cert);
});

describe('internal TLS certificates on the lab', () => {
  it('every host gets the CA, its key and a certificate that verifies against the CA', async () => {
    const first = await apply();
    expect(first.code, first.stderr).toBe(0);
    for (const { name, address } of labHosts()) {
      const out = await onHost(name, [
        'cd /etc/foobar/tls',
        "sudo stat -c '%n %U:%G %a' ca.crt host.crt host.key",
        'sudo openssl verify -CAfile ca.crt host.crt',
        'getent group foobar-tls >/dev/null && echo group-ok',
        'echo =split=',
        'cat ca.crt; echo =split=; cat host.crt',
      ].join(' && '));
      const [facts, caPem, certPem] = out.split('=split=\n');
      expect(facts, name).toContain('ca.crt root:root 644\nhost.crt root:root 644\nhost.key root:foobar-tls 640\nhost.crt: OK\ngroup-ok');
      expect(new X509Certificate(caPem!).fingerprint256, name).toBe(ca.fingerprint256);
      const cert = new X509Certificate(certPem!);
      expect(cert.subjectAltName?.split(', '), name).toEqual(expect.arrayContaining([`DNS:${name}`, `IP Address:${address}`]));
      expect(cert.verify(ca.publicKey), name).toBe(true);
    }
  });

  it('a second apply is 0 changes, one round trip per host', async () => {
    const again = await apply();
    expect(again.code).toBe(0);
    const report = parseReport(again.stdout);
    expect(report.changes).toBe(0);
    for (const host of report.hosts) expect(host.roundTrips, host.host).toBe(1);
  });
});
