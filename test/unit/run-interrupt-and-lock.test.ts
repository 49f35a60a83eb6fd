// The executor's answers to an interrupt during preparation and to a host whose probe output is
// cut, and the run lock's reading of a host's answer. Local transports; the real sshd cases are
// in test/integration/{interrupt,run-lock}.test.ts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parsePlaybook } from '../../src/config/playbook.js';
import type { PlayConfig, PlaybookConfig } from '../../src/config/types.js';
import { computeBatches } from '../../src/inventory/index.js';
import { knownModuleNames, modules } from '../../src/modules/registry.js';
import { HostLockedError, HostLockError, lockScript, type LockSettings } from '../../src/run/host-lock.js';
import { runPlaybook, RunInterrupted, type RunPlaybookOptions } from '../../src/run/playbook-runner.js';
import { LocalTransport } from '../../src/transport/local.js';
import type { ExecOptions, ExecResult, Transport } from '../../src/transport/types.js';
import { CollectingReporter } from '../fixtures/run/helpers.js';

const knownModules = new Set(knownModuleNames);
let root = '';
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'run-interrupt-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function options(playbook: PlaybookConfig, hosts: string[], over: Partial<RunPlaybookOptions>): RunPlaybookOptions {
  return {
    mode: 'apply',
    playbook,
    inventoryName: 'test',
    hostsForPlay: () => hosts,
    varsFor: (host) => ({ inventory_hostname: host, dir: join(root, host) }),
    batchesFor: (play: PlayConfig, list: string[]) => computeBatches(list, play.serial),
    selected: () => true,
    prepare: { modules, secretVarNames: new Set(), searchPathFor: () => [root] },
    transportFor: (host) => new LocalTransport({ hostName: host, cwd: root }),
    loginIsRoot: () => false,
    forks: 4,
    reporter: new CollectingReporter(),
    hostsOfGroup: () => [],
    allHostsForPlay: () => hosts,
    ...over,
  };
}

describe('an interrupt before any connection', () => {
  it('stops the preparation of many hosts part way and connects to none', async () => {
    const playbook = await parsePlaybook(
      `- hosts: all\n  tasks:\n    - copy: { content: "<%= inventory_hostname %>", dest: "<%= dir %>/x" }\n`,
      join(root, 'site.yml'),
      { knownModules },
    );
    const hosts = Array.from({ length: 20_000 }, (_, i) => `h${i}`);
    const controller = new AbortController();
    let prepared = 0;
    let connected = 0;
    // The signal can only be seen if preparation lets the event loop run.
    setTimeout(() => controller.abort(), 0);
    const run = runPlaybook(options(playbook, hosts, {
      signal: controller.signal,
      varsFor: (host) => {
        prepared += 1;
        return { inventory_hostname: host, dir: join(root, host) };
      },
      transportFor: (host) => {
        connected += 1;
        return new LocalTransport({ hostName: host, cwd: root });
      },
    }));
    await expect(run).rejects.toBeInstanceOf(RunInterrupted);
    expect(connected).toBe(0);
    expect(prepared).toBeLessThan(hosts.length);
  });
});

/** LocalTransport whose first command (the facts probe) answers with cut output. */
class CutProbeTransport extends LocalTransport {
  #first = true;
  override async exec(command: string, options?: ExecOptions): Promise<ExecResult> {
    if (this.#first) {
      this.#first = false;
      await super.exec('true');
      return { code: 0, stdout: 'Welcome to the host!\n--foobar-probe-0000-- sys', stderr: '' };
    }
    return super.exec(command, options);
  }
}

describe('a probe whose output is cut', () => {
  it('fails only that host, with a plain message; the others go on', async () => {
    const playbook = await parsePlaybook(
      `- hosts: all\n  tasks:\n    - name: marker\n      copy: { content: "ok", dest: "<%= dir %>-marker" }\n`,
      join(root, 'site.yml'),
      { knownModules },
    );
    const summary = await runPlaybook(options(playbook, ['good', 'bad'], {
      transportFor: (host): Transport => (host === 'bad' ? new CutProbeTransport({ hostName: host, cwd: root }) : new LocalTransport({ hostName: host, cwd: root })),
    }));
    const bad = summary.hosts.find((h) => h.host === 'bad')!;
    const good = summary.hosts.find((h) => h.host === 'good')!;
    expect(bad).toMatchObject({ status: 'failed', failed: 1 });
    expect(bad.message).toMatch(/^gather facts: fact gathering: output cut short or garbled \(fact probe output is incomplete/);
    expect(good).toMatchObject({ status: 'changed', changed: 1 });
  });
});

describe('the run lock answer', () => {
  const lock: LockSettings = { mode: 'apply', owner: 'root@ctl pid 1234 since 2026-12-03 17:02:11 UTC, apply playbooks/site.yml', runId: 'abc123', dir: '/run/lock' };
  const statusLine = (script: string, word: string): string => {
    const tag = /'(--foobar-lock-[0-9a-f]+--) locked'/.exec(script)![1]!;
    return `${tag} ${word}`;
  };

  it('reads a busy host as locked, naming the holder without its run id or control characters', () => {
    const script = lockScript('web1', lock);
    const stdout = `${statusLine(script.before, 'busy')}\nroot@ctl pid 99 since 2026-12-03 17:02:11 UTC, apply site.yml\u001b[2J [run ffee01]\n`;
    expect(() => script.parse({ holding: false, stdout, stderr: '', code: 0 })).toThrow(HostLockedError);
    expect(() => script.parse({ holding: false, stdout, stderr: '', code: 0 })).toThrow('web1 is locked by another foobar-provision run (root@ctl pid 99 since 2026-12-03 17:02:11 UTC, apply site.yml?[2J)');
  });

  it('names the holder as the issue shows it: who, pid, playbook, since', () => {
    const script = lockScript('web1', lock);
    const stdout = `${statusLine(script.before, 'busy')}\nfbp1 alice@ops1 4242 2020-01-02T10:02:11.000Z playbooks/site.yml [run ffee01]\n`;
    expect(() => script.parse({ holding: false, stdout, stderr: '', code: 0 })).toThrow('web1 is locked by alice@ops1 (pid 4242, playbooks/site.yml, since 2020-01-02 10:02 UTC)');
  });

  it('returns the command output and status when it holds the lock', () => {
    const script = lockScript('web1', lock);
    const stdout = `${statusLine(script.before, 'locked')}\nline 1\nline 2\n\n3\n`;
    expect(script.parse({ holding: true, stdout, stderr: 'warn', code: undefined as unknown as number })).toEqual({ stdout: 'line 1\nline 2\n', stderr: 'warn', code: 3 });
  });

  it('says why when the lock cannot be taken at all', () => {
    const script = lockScript('web1', lock);
    expect(() => script.parse({ holding: false, stdout: `${statusLine(script.before, 'noflock')}\n`, stderr: '', code: 0 })).toThrow('flock is not installed');
    const sudo = () => script.parse({ holding: false, stdout: '', stderr: 'sudo: a password is required\n', code: 1 });
    expect(sudo).toThrow(HostLockError);
    expect(sudo).toThrow('web1: cannot take the run lock: the command did not start (exit 1): sudo: a password is required');
  });
});

describe('queued steps split over several execs', () => {
  it('an interrupt between two execs sends no more', async () => {
    const { execBatched } = await import('../../src/run/batched-exec.js');
    const controller = new AbortController();
    const local = new LocalTransport({ hostName: 'h', cwd: root });
    let execs = 0;
    const transport: Transport = Object.assign(Object.create(local) as Transport, {
      exec: async (command: string, opts?: ExecOptions) => {
        execs += 1;
        const result = await local.exec(command, opts);
        controller.abort(); // the interrupt comes while the first exec runs
        return result;
      },
    });
    // Each step is big enough that two of them do not fit one command.
    const filler = `: ${'x'.repeat(40_000)}`;
    const steps = [1, 2, 3].map((n) => ({ command: `${filler}; echo ${n} >> ${join(root, 'ran')}` }));
    const outcome = await execBatched(transport, steps, false, controller.signal);
    expect(execs).toBe(1);
    expect(outcome.interrupted).toBe(true);
    expect(outcome.results.length).toBeGreaterThan(0);
    expect(outcome.results.length).toBeLessThan(3);
  });
});
