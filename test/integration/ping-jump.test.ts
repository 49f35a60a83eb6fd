// ping through jump hosts (loopback sshds): the same transport as plan/apply, so hosts behind a
// bastion are pinged through it, and a failing bastion is named as the reason.
import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTestUsers, freePort, requireIntegrationHost, startSshd, type TestSshd } from '../helpers/sshd.js';
import { runCli } from '../helpers/cli.js';

let bastion: TestSshd;
let target: TestSshd;
let dir: string;
let inv: string;

beforeAll(async () => {
  requireIntegrationHost();
  await ensureTestUsers();
  [bastion, target] = await Promise.all([startSshd(), startSshd()]);
  dir = await mkdtemp(join(tmpdir(), 'fbp-ping-jump-'));
  const closed = await freePort();
  const kh = join(dir, 'known_hosts');
  await writeFile(kh, `${bastion.knownHostsLine()}\n${target.knownHostsLine()}\n`);
  inv = join(dir, 'inv.yml');
  await writeFile(inv, `connection:
  user: root
  key: ${bastion.clientKeyPath}
  known_hosts: ${kh}
  connect_timeout: 5
hosts:
  bastion: { address: 127.0.0.1, port: ${bastion.port} }
  web1: { address: 127.0.0.1, port: ${target.port}, key: ${target.clientKeyPath}, jump: bastion }
  web2: { address: 127.0.0.1, port: ${target.port}, key: ${target.clientKeyPath}, jump: "root@127.0.0.1:${closed}" }
  badkey: { address: 127.0.0.1, port: ${target.port}, key: ${target.clientKeyPath}, jump: "root@127.0.0.1:${bastion.port}", known_hosts: ${bastion.wrongKnownHostsFile} }
`);
}, 30_000);

afterAll(async () => {
  await Promise.all([bastion?.stop(), target?.stop()]);
  await rm(dir, { recursive: true, force: true });
});

describe('ping through jump hosts', () => {
  it('a host behind a bastion is ok; behind a dead or impostor bastion it is unreachable via it', async () => {
    const before = target.connectionCount();
    const r = await runCli(['ping', '-i', inv]);
    console.log(r.stdout + r.stderr);
    const line = (h: string) => r.stdout.split('\n').find((l) => l.startsWith(`${h} `)) ?? '';
    expect(line('bastion')).toMatch(/\sok\s/);
    expect(line('web1')).toMatch(/\sok\s/);
    expect(line('web2')).toMatch(/unreachable \(via \S+: refused\)/);
    expect(r.code).toBe(1);
    expect(target.connectionCount() - before).toBe(1); // only web1 reached the target
  }, 60_000);
});
