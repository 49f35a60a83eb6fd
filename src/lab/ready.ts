// Waits until a booted host answers SSH and systemd says it has finished starting.

import { readFile } from 'node:fs/promises';
import { LabError } from '../errors.js';
import { sleep } from './exec.js';
import { launcherPid } from './host.js';
import { keyBlobs, readHostKeys } from './keys.js';
import { hostPaths } from './paths.js';
import { sshBanner, sshRun } from './probe.js';
import type { LabHost } from './topology.js';

export const SETTLED_STATES = ['running', 'degraded'];

async function logTail(name: string): Promise<string> {
  const text = await readFile(hostPaths(name).logFile, 'utf8').catch(() => '');
  return text.trim().split('\n').slice(-12).join('\n');
}

export async function waitReady(host: LabHost, user: string, privateKey: Buffer, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no SSH host key yet';
  const fail = async (why: string): Promise<never> => {
    throw new LabError(
      `${host.name} (${host.address}) did not come up: ${why}\n--- ${hostPaths(host.name).logFile} ---\n${await logTail(host.name)}`,
      `look at the log above; \`lab down\` then \`lab up\` starts over`,
    );
  };
  while (Date.now() < deadline) {
    if ((await launcherPid(host.name)) === null) await fail('its launcher exited');
    const keys = await readHostKeys(host.name);
    if (keys.length > 0 && (await sshBanner(host.address))) {
      const r = await sshRun({
        address: host.address,
        user,
        privateKey,
        hostKeys: keyBlobs(keys),
        command: 'systemctl is-system-running --wait',
        timeoutMs: Math.max(1000, deadline - Date.now()),
      });
      if (SETTLED_STATES.includes(r.output)) return r.output;
      last = r.error ? `ssh: ${r.error}` : `systemd is ${r.output || 'unknown'}`;
    } else if (keys.length > 0) {
      last = 'sshd does not answer yet';
    }
    await sleep(250);
  }
  return fail(`${last} after ${Math.round(timeoutMs / 1000)} s`);
}
