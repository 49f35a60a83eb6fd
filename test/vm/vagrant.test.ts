// The stack on real VMs: vagrant-libvirt boots a subset of inventory/vagrant.yml from the local
// box (KVM when a KVM guest boots here, else software emulation), site.yml converges on it, a
// second run changes nothing in one round trip per host, HTTPS through lb1 is answered by web1 →
// app1 → the databases, plan shows a manual edit, and `vagrant destroy` leaves nothing in libvirt.
// Never skipped: when libvirt cannot start, the first step fails and says what is missing.

import { execFile } from 'node:child_process';
import { request, type RequestOptions } from 'node:https';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseDocument, Scalar, type YAMLMap, type YAMLSeq } from 'yaml';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { libvirtLeftovers } from '../../src/vagrant/libvirt.js';
import { DEPLOY_KEY, LIBVIRT_PREFIX } from '../../src/vagrant/paths.js';
import { parseReport, runCli, type CliResult } from '../helpers/cli.js';
import { REPO } from '../helpers/lab.js';
import { sleep, within } from '../helpers/poll.js';

const run = promisify(execFile);

/** Under software emulation all nine VMs are too slow for CI on two cores: one host per role on
 *  the web path. FOOBAR_VM_HOSTS picks others. */
const VM_HOSTS = (process.env.FOOBAR_VM_HOSTS ?? 'lb1,web1,app1,db1').split(',');
const INVENTORY = `${REPO}inventory/vagrant.yml`;
const KNOWN_HOSTS = `${REPO}inventory/vagrant.known_hosts`;
const inventory = parse(readFileSync(INVENTORY, 'utf8')) as { hosts: Record<string, { address: string }> };
const addressOf = (host: string): string => inventory.hosts[host]!.address;

/**
 * inventory/vagrant.yml cut down to the VMs that run: the stack is then whole on them (haproxy
 * waits for every web server it balances, nginx for every app server). The same vault, key and
 * known_hosts; a copy beside it, because a NAME.yml inventory finds NAME.vault.yml by its name.
 */
function subsetInventory(hosts: string[]): string {
  const doc = parseDocument(readFileSync(INVENTORY, 'utf8'));
  for (const name of Object.keys(inventory.hosts)) if (!hosts.includes(name)) doc.deleteIn(['hosts', name]);
  const groups = doc.get('groups') as YAMLMap;
  for (const pair of groups.items) {
    const members = (pair.value as YAMLMap).get('hosts') as YAMLSeq | undefined;
    if (members) members.items = members.items.filter((m) => hosts.includes(String(m instanceof Scalar ? m.value : m)));
  }
  doc.setIn(['connection', 'known_hosts'], KNOWN_HOSTS);
  const dir = mkdtempSync(join(tmpdir(), 'fbp-vm-inventory-'));
  writeFileSync(join(dir, 'vm.yml'), doc.toString());
  copyFileSync(`${REPO}inventory/vagrant.vault.yml`, join(dir, 'vm.vault.yml'));
  copyFileSync(`${REPO}inventory/vagrant.vault-password`, join(dir, 'vm.vault-password'));
  return join(dir, 'vm.yml');
}
const VM_INVENTORY = subsetInventory(VM_HOSTS);

const cli = (args: string[]): Promise<CliResult> => runCli(args, { cwd: REPO });
const converge = (mode: 'plan' | 'apply', ...extra: string[]): Promise<CliResult> =>
  cli([mode, '--inventory', VM_INVENTORY, '--playbook', 'playbooks/site.yml', '--limit', VM_HOSTS.join(','), '--json', ...extra]);

/** Runs a command on a VM as deploy, with strict host-key checking against the console's keys. */
async function onVm(host: string, command: string): Promise<string> {
  const { stdout } = await run('ssh', [
    '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${KNOWN_HOSTS}`,
    '-o', 'ConnectTimeout=10', '-i', DEPLOY_KEY, `deploy@${addressOf(host)}`, command,
  ], { timeout: 60_000 });
  return stdout;
}

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One HTTPS request to lb1 on a fresh connection (the stack's certificate is from its own CA). */
function viaLb1(path: string, opts: { method?: string; body?: string } = {}): Promise<Reply> {
  const options: RequestOptions = {
    host: addressOf('lb1'), port: 443, path, method: opts.method ?? 'GET', agent: false, rejectUnauthorized: false, timeout: 20_000,
    headers: opts.body === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(opts.body) },
  };
  return new Promise((resolve, reject) => {
    const req = request(options, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timeout: ${path}`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}

const seconds = (t0: number): string => ((Date.now() - t0) / 1000).toFixed(0);
let firstApply: CliResult;

beforeAll(async () => {
  // An interrupted earlier run may have left VMs, volumes or networks: start from nothing.
  const cleanup = await cli(['vagrant', 'destroy']);
  expect(cleanup.code, `vagrant destroy (before):\n${cleanup.stderr}`).toBe(0);
  const t0 = Date.now();
  const up = await cli(['vagrant', 'up', ...VM_HOSTS]);
  expect(up.code, `vagrant up failed: the VM tier cannot run on this machine.\n${up.stderr.split('\n').slice(-40).join('\n')}`).toBe(0);
  console.log(`vm: ${up.stdout.trim()} (${seconds(t0)} s with the box)`);
  const t1 = Date.now();
  firstApply = await converge('apply');
  console.log(`vm: first apply of site.yml on ${VM_HOSTS.length} VMs took ${seconds(t1)} s`);
});

afterAll(async () => {
  // Also when a test failed: the VMs must not outlive the run.
  await cli(['vagrant', 'destroy']);
});

describe('the stack on Vagrant VMs (libvirt)', () => {
  it('the first apply of site.yml converges the VMs and changes things', () => {
    const report = parseReport(firstApply.stdout);
    expect(report.hosts.map((h) => h.host).sort()).toEqual([...VM_HOSTS].sort());
    for (const h of report.hosts) expect(h.status, `${h.host}: ${h.message ?? ''}`).toBe('changed');
    expect(report.changes).toBeGreaterThan(0);
    expect(firstApply.code, firstApply.stderr).toBe(0);
  });

  it('a second apply changes nothing, in one round trip per host', async () => {
    const t0 = Date.now();
    const again = await converge('apply');
    console.log(`vm: no-op apply took ${seconds(t0)} s`);
    expect(again.code, again.stderr).toBe(0);
    const report = parseReport(again.stdout);
    expect(report.changes).toBe(0);
    for (const h of report.hosts) expect(h, h.host).toMatchObject({ changed: 0, failed: 0, status: 'ok', roundTrips: 1 });
  });

  it('HTTPS through lb1 is answered by web1 → app1 → db1: a write through it is read back', async () => {
    // haproxy health-checks web1 and nginx reaches app1: poll until the path answers.
    const page = await within(120_000, async () => {
      const r = await viaLb1('/?format=json');
      return r.status === 200 ? r : undefined;
    }, 1000);
    expect(page, 'no 200 from https://lb1/ within 120 s').toBeDefined();
    expect(page!.headers['x-load-balancer']).toBe('lb1');
    expect(page!.headers['x-served-by']).toBe('web1 app1');

    const token = `vm-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
    const write = await viaLb1('/write', { method: 'POST', body: `msg=${token}` });
    expect(write.status, write.body).toBe(201);
    expect((JSON.parse(write.body) as { written_to: string }).written_to).toBe(addressOf('db1'));
    const seen = await within(60_000, async () => {
      const r = await viaLb1('/?format=json');
      const body = JSON.parse(r.body) as { read_from: string; last: { msg: string } | null };
      return body.last?.msg === token ? body : undefined;
    }, 1000);
    expect(seen, 'the row written through lb1 was not read back within 60 s').toBeDefined();
    // With one database host in the run, the app reads from the primary itself.
    expect(seen!.read_from).toBe(addressOf('db1'));
  });

  it('plan after a manual edit on web1 shows exactly that diff; apply puts it back', async () => {
    const mark = `# vm-manual-edit-${Date.now()}`;
    await onVm('web1', `sudo sh -c 'echo "${mark}" >> /etc/nginx/nginx.conf'`);
    const plan = await converge('plan');
    expect(plan.code, plan.stderr).toBe(0);
    const changed = parseReport(plan.stdout).results.filter((r) => r.outcome === 'changed' && !r.handler);
    expect(changed.map((r) => r.host)).toEqual(['web1']);
    expect(changed[0]!.task).toBe('nginx config');
    expect(changed[0]!.diff!.patch.split('\n').filter((l) => /^[-+][^-+]/.test(l))).toEqual([`-${mark}`]);
    const fix = await converge('apply');
    expect(fix.code, fix.stderr).toBe(0);
    expect(await onVm('web1', `grep -c -- '${mark}' /etc/nginx/nginx.conf || true`)).toBe('0\n');
  });

  it('vagrant destroy leaves no libvirt domain, volume or network behind', async () => {
    const destroyed = await cli(['vagrant', 'destroy']);
    expect(destroyed.code, destroyed.stderr).toBe(0);
    // libvirt tears networks down asynchronously on some versions: poll briefly.
    let left = await libvirtLeftovers(LIBVIRT_PREFIX);
    for (let i = 0; i < 10 && left.domains.length + left.volumes.length + left.networks.length > 0; i++) {
      await sleep(500);
      left = await libvirtLeftovers(LIBVIRT_PREFIX);
    }
    expect(left).toEqual({ domains: [], volumes: [], networks: [] });
    // ...and the check itself sees libvirt: an unreachable libvirtd must not pass as "nothing left".
    const { stdout } = await run('virsh', ['-c', 'qemu:///system', 'pool-info', 'default']);
    expect(stdout).toMatch(/State:\s+running/);
  });

  it('vagrant destroy also removes what an interrupted run left behind Vagrant\'s back', async () => {
    // What a run killed between libvirt's steps leaves: a domain, a volume and a network that
    // Vagrant's own state no longer knows about.
    const dir = mkdtempSync(join(tmpdir(), 'fbp-vm-leftover-'));
    writeFileSync(join(dir, 'domain.xml'), "<domain type='qemu'><name>foobar-interrupted</name><memory unit='MiB'>64</memory><os><type arch='x86_64'>hvm</type></os></domain>");
    writeFileSync(join(dir, 'net.xml'), "<network><name>foobar-interrupted</name><bridge name='fbint0'/><ip address='10.216.9.1' netmask='255.255.255.0'/></network>");
    const virsh = (...args: string[]) => run('virsh', ['-c', 'qemu:///system', ...args]);
    await virsh('define', join(dir, 'domain.xml'));
    await virsh('vol-create-as', 'default', 'foobar-interrupted.img', '1M');
    await virsh('net-define', join(dir, 'net.xml'));
    await virsh('net-start', 'foobar-interrupted');
    const before = await libvirtLeftovers(LIBVIRT_PREFIX);
    expect(before).toEqual({ domains: ['foobar-interrupted'], volumes: ['foobar-interrupted.img'], networks: ['foobar-interrupted'] });

    const destroyed = await cli(['vagrant', 'destroy']);
    expect(destroyed.code, destroyed.stderr).toBe(0);
    expect(destroyed.stderr).toContain('removed domain foobar-interrupted');
    expect(await libvirtLeftovers(LIBVIRT_PREFIX)).toEqual({ domains: [], volumes: [], networks: [] });
  });
});
