// Which libvirt domain type boots here: `kvm` only when a KVM guest really runs (on some machines
// /dev/kvm opens but a nested guest hangs right after the BIOS), else `qemu` (TCG, software).
// Probed once by booting the box's kernel under KVM and waiting for it to start its init; the
// answer is cached in DRIVER_FILE, which the Vagrantfile reads.

import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, readFile, writeFile } from 'node:fs/promises';
import { DRIVER_FILE } from './paths.js';

export type Driver = 'kvm' | 'qemu';

/** The kernel prints this once it hands over to the initramfs: the guest CPU really ran. */
const BOOTED_MARKER = 'Run /init as init process';
const PROBE_SECONDS = 60;

export async function cachedDriver(): Promise<Driver | null> {
  const text = (await readFile(DRIVER_FILE, 'utf8').catch(() => '')).trim();
  return text === 'kvm' || text === 'qemu' ? text : null;
}

function bootsUnderKvm(kernel: string, initrd: string): Promise<{ booted: boolean; detail: string }> {
  return new Promise((resolve) => {
    const child = spawn('qemu-system-x86_64', [
      '-machine', 'accel=kvm', '-cpu', 'host', '-m', '256', '-nographic', '-no-reboot', '-nodefaults',
      '-serial', 'stdio', '-kernel', kernel, '-initrd', initrd,
      '-append', 'console=ttyS0 panic=-1 root=/dev/nonexistent',
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let settled = false;
    const finish = (booted: boolean, detail: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      resolve({ booted, detail });
    };
    const timer = setTimeout(() => finish(false, `no kernel start within ${PROBE_SECONDS} s`), PROBE_SECONDS * 1000);
    const onData = (b: Buffer): void => {
      out += b.toString('latin1');
      if (out.includes(BOOTED_MARKER)) finish(true, 'the kernel reached its init');
      if (out.length > 1 << 20) out = out.slice(-4096);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (e) => finish(false, `cannot run qemu-system-x86_64: ${e.message}`));
    child.on('exit', (code) => finish(false, `qemu exited (${code}) before the kernel started: ${out.trim().split('\n').slice(-2).join(' ')}`));
  });
}

/** Probes (unless cached and `fresh` is false) and records the answer. */
export async function chooseDriver(kernel: string, initrd: string, log: (line: string) => void, fresh = false): Promise<Driver> {
  const cached = fresh ? null : await cachedDriver();
  if (cached) {
    log(`driver: ${cached} (cached in ${DRIVER_FILE}; \`vagrant box --probe\` asks again)`);
    return cached;
  }
  let driver: Driver = 'qemu';
  try {
    await access('/dev/kvm', constants.R_OK | constants.W_OK);
    log(`driver: /dev/kvm opens; booting a probe guest under KVM (up to ${PROBE_SECONDS} s)`);
    const probe = await bootsUnderKvm(kernel, initrd);
    driver = probe.booted ? 'kvm' : 'qemu';
    log(`driver: ${driver} (${probe.detail})`);
  } catch {
    log('driver: qemu (/dev/kvm cannot be opened: VMs run under software emulation, slowly)');
  }
  await writeFile(DRIVER_FILE, `${driver}\n`, { mode: 0o644 });
  return driver;
}
