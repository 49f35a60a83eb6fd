// mon1 as a bastion: the controller's SSH to every other lab host is cut (an iptables rule on
// the controller's side of lab0), a temp copy of the lab inventory says `jump: mon1`, and plan and
// apply of site.yml go through it with strict host keys on both hops, over ONE connection to mon1
// per run (counted in mon1's sshd journal). A changed key for mon1 is refused.
//
// The lab's ufw lets SSH in only from the controller; for the test the other hosts also let it in
// from mon1 (a rule removed afterwards), and the firewall tasks are skipped: they would remove that
// rule. Everything is restored in afterAll, and the ufw rule files are checked to be as they were.
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseReport, runCli } from '../helpers/cli.js';
import { LAB_KEY, LAB_KNOWN_HOSTS, REPO, addressOf, labHosts, onHost } from '../helpers/lab.js';

const run = promisify(execFile);
const BASTION = 'mon1';
const TAG = 'fbp-jump-e2e';
const bastionAddress = addressOf(BASTION);
const others = labHosts().filter((h) => h.name !== BASTION);
const dir = mkdtempSync(join(tmpdir(), 'fbp-e2e-jump-'));
const inventory = join(dir, 'lab.yml');
const UFW_RULE = `proto tcp from ${bastionAddress} to any port 22`;

/** The controller's own SSH to the lab, except to the bastion, is refused while the test runs. */
const cutRules = [
  ['-o', 'lab0', '-p', 'tcp', '-d', bastionAddress, '--dport', '22', '-m', 'comment', '--comment', TAG, '-j', 'ACCEPT'],
  ['-o', 'lab0', '-p', 'tcp', '-d', '10.213.0.0/24', '--dport', '22', '-m', 'comment', '--comment', TAG, '-j', 'REJECT', '--reject-with', 'tcp-reset'],
];

async function uncut(): Promise<void> {
  // Every copy, a crashed earlier run's included.
  for (const rule of cutRules) {
    while (await run('iptables', ['-D', 'OUTPUT', ...rule]).then(() => true, () => false));
  }
}

const ufwFiles = (host: string) => onHost(host, 'sudo sha256sum /etc/ufw/user.rules /etc/ufw/user6.rules');
const ufwBefore = new Map<string, string>();

/** mon1's sshd journal from here on: a cursor to read after. */
async function journalCursor(): Promise<string> {
  const out = await onHost(BASTION, 'sudo journalctl -u ssh -n 0 --show-cursor --no-pager');
  const cursor = /^-- cursor: (.+)$/m.exec(out)?.[1];
  if (!cursor) throw new Error(`no journal cursor in: ${out}`);
  return cursor;
}

/** Logins from the controller since `cursor`, not counting the one that asks. */
async function controllerLoginsSince(cursor: string): Promise<number> {
  const out = await onHost(BASTION, `echo "$SSH_CONNECTION"; sudo journalctl -u ssh --after-cursor='${cursor}' --no-pager -o cat`);
  const [self, ...log] = out.split('\n');
  const ownPort = self!.split(' ')[1];
  return log.filter((l) => l.startsWith('Accepted publickey for deploy from 10.213.0.1 port ') && !l.includes(` port ${ownPort} `)).length;
}

const cli = (...args: string[]) => runCli(args, { cwd: REPO });

beforeAll(async () => {
  for (const file of ['lab.vault.yml', 'lab.vault-password', 'lab.known_hosts']) copyFileSync(join(REPO, 'inventory', file), join(dir, file));
  const text = readFileSync(join(REPO, 'inventory', 'lab.yml'), 'utf8');
  // Every host but the bastion goes through it (the bastion's own inherited jump stops before it).
  writeFileSync(inventory, text.replace(/^connection:\n/m, `connection:\n  jump: ${BASTION}\n`));
  await uncut();
  for (const h of others) {
    ufwBefore.set(h.name, await ufwFiles(h.name));
    await onHost(h.name, `sudo ufw insert 1 allow ${UFW_RULE} comment ${TAG}`);
  }
  for (const rule of cutRules) await run('iptables', ['-A', 'OUTPUT', ...rule]);
}, 120_000);

afterAll(async () => {
  await uncut();
  for (const h of others) {
    await onHost(h.name, `sudo ufw delete allow ${UFW_RULE}`).catch(() => undefined);
    expect(await ufwFiles(h.name)).toBe(ufwBefore.get(h.name));
  }
}, 120_000);

describe('mon1 as a jump host', () => {
  it('the controller cannot reach the other hosts directly', async () => {
    const direct = await run('ssh', ['-o', 'BatchMode=yes', '-o', `UserKnownHostsFile=${LAB_KNOWN_HOSTS}`, '-o', 'ConnectTimeout=5', '-i', LAB_KEY, `deploy@${addressOf('web1')}`, 'true']).then(
      () => 'reached',
      (e: { stderr?: string }) => e.stderr ?? '',
    );
    expect(direct).toMatch(/Connection refused/);
  });

  it('plan and apply of site.yml go through mon1: no changes, one connection to mon1 per run', async () => {
    for (const mode of ['plan', 'apply'] as const) {
      const cursor = await journalCursor();
      const started = Date.now();
      const result = await cli(mode, '-i', inventory, '-p', 'playbooks/site.yml', '--skip-tags', 'firewall', '--json');
      console.log(`jump e2e: ${mode} of site.yml through ${BASTION} took ${Date.now() - started} ms`);
      expect(result.code, result.stderr).toBe(0);
      const report = parseReport(result.stdout);
      expect(report.hosts.map((h) => h.host).sort()).toEqual(labHosts().map((h) => h.name).sort());
      expect(report.hosts.every((h) => h.status === 'ok' && !h.unreachable)).toBe(true);
      expect(report.changes).toBe(0);
      // Behind the bastion as directly: --skip-tags costs a converged host a second round trip
      // (measured without any jump host too: site.yml --skip-tags firewall is 2, without it 1).
      expect(report.hosts.every((h) => h.roundTrips <= 2), JSON.stringify(report.hosts.map((h) => [h.host, h.roundTrips]))).toBe(true);
      expect(await controllerLoginsSince(cursor)).toBe(1);
    }
  }, 600_000);

  it('a changed key for mon1 is refused, naming mon1, and no host behind it is touched', async () => {
    const badDir = mkdtempSync(join(tmpdir(), 'fbp-e2e-jump-bad-'));
    const { stdout: pub } = await run('sh', ['-c', `ssh-keygen -q -t ed25519 -N '' -f ${badDir}/k && cat ${badDir}/k.pub`]);
    const [type, blob] = pub.trim().split(/\s+/);
    const knownHosts = readFileSync(join(dir, 'lab.known_hosts'), 'utf8')
      .split('\n')
      .map((l) => (l.startsWith(`${bastionAddress} `) ? `${bastionAddress} ${type} ${blob}` : l))
      .join('\n');
    for (const file of ['lab.vault.yml', 'lab.vault-password']) copyFileSync(join(dir, file), join(badDir, file));
    writeFileSync(join(badDir, 'lab.known_hosts'), knownHosts);
    writeFileSync(join(badDir, 'lab.yml'), readFileSync(inventory, 'utf8'));
    const cursor = await journalCursor();
    const result = await cli('plan', '-i', join(badDir, 'lab.yml'), '-p', 'playbooks/site.yml', '--skip-tags', 'firewall', '--json');
    expect(result.code).toBe(1);
    const report = parseReport(result.stdout);
    expect(report.hosts.every((h) => h.status === 'unreachable' && h.roundTrips === 0)).toBe(true);
    expect(report.hosts.find((h) => h.host === BASTION)?.message).toMatch(/^HOST KEY CHANGED for mon1 \(10\.213\.0\.51\)/);
    for (const h of others) expect(report.hosts.find((r) => r.host === h.name)?.message).toMatch(new RegExp(`^${h.name}: unreachable via jump host mon1: HOST KEY CHANGED for mon1`));
    // Refused at the key exchange: no login on mon1.
    expect(await controllerLoginsSince(cursor)).toBe(0);
  }, 120_000);
});
