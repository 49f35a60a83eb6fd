// plan's checks of new file content, held and settled per play: results keep their order, all
// checks of a play go in one exec, a rejected candidate fails the host with the validator's first
// line, a secret file's words never come back in the output. Commands run for real (local sh).
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ValidationCandidate } from '../../src/modules/types.js';
import type { TaskResult } from '../../src/plan/types.js';
import type { Reporter } from '../../src/report/reporter.js';
import { PlanValidations, type PlanCheck } from '../../src/run/plan-validations.js';
import { LocalTransport } from '../../src/transport/local.js';

let dir = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'plan-validations-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function reporter(reported: string[]): Reporter {
  return {
    runStart() {}, playStart() {}, taskStart() {}, hostConnected() {}, hostUnreachable() {}, hostDone() {}, log() {}, runEnd() {},
    taskResult: (r) => reported.push(`${r.task}:${r.outcome}`),
  };
}

function result(task: string): TaskResult {
  return { host: 'h', play: 'p', task, module: 'copy', outcome: 'changed', reason: `update ${task}`, durationMs: 0 };
}

function run(name: string, content: string, validate: string, sensitive = false): PlanCheck {
  const candidate: ValidationCandidate = { dest: join(dir, name), validate, content: Buffer.from(content), sensitive };
  return { kind: 'run', candidate, become: false, ignored: false };
}

describe('PlanValidations', () => {
  it('holds results from the first check on, runs every check in one exec, reports in order', async () => {
    const reported: string[] = [];
    const checks = new PlanValidations(reporter(reported), {});
    const transport = new LocalTransport();
    const a = result('a'), b = result('b'), c = result('c'), d = result('d');
    expect(checks.hold(a, undefined)).toBe(false);
    expect(checks.hold(b, run('b.conf', 'bad\n', 'grep -q good %s || { echo "nginx: [emerg] no good in %s" >&2; exit 1; }'))).toBe(true);
    expect(checks.hold(c, undefined)).toBe(true);
    expect(checks.hold(d, run('d.conf', 'good\n', 'grep -q good %s'))).toBe(true);
    const end = await checks.finish({ failed: false }, transport);
    expect(transport.roundTrips).toBe(1);
    expect(end.failed).toBe(true);
    expect(reported).toEqual(['b:failed', 'c:changed', 'd:changed']);
    expect(b.reason).toBe(`would fail validation: nginx: [emerg] no good in ${join(dir, 'b.conf')} (candidate)`);
    expect(b.validation).toEqual({ status: 'failed', command: expect.any(String) });
    expect(d.reason).toBe('update d; validated');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('nothing to check: no exec at all', async () => {
    const transport = new LocalTransport();
    const checks = new PlanValidations(reporter([]), {});
    checks.hold(result('a'), undefined);
    expect(await checks.finish({ failed: false }, transport)).toEqual({ failed: false });
    expect(transport.roundTrips).toBe(0);
  });

  it("a secret file's words are masked in what the validator says", async () => {
    const checks = new PlanValidations(reporter([]), {});
    const r = result('s');
    checks.hold(r, run('s.conf', 'password hunter2secret;\n', 'echo "unknown directive \\"$(cut -d" " -f2 %s)\\"" >&2; exit 1', true));
    await checks.finish({ failed: false }, new LocalTransport());
    expect(r.reason).toBe('would fail validation: unknown directive "********;"');
    expect(JSON.stringify(r)).not.toContain('hunter2secret');
  });

  it('an interrupted play, or content known only at apply time: not validated, no exec', async () => {
    const transport = new LocalTransport();
    const checks = new PlanValidations(reporter([]), {});
    const r = result('a'), deferred = result('b');
    checks.hold(r, run('a.conf', 'bad\n', 'false %s'));
    checks.hold(deferred, { kind: 'skip', validate: 'nginx -t -c %s', why: 'its content is known only at apply time' });
    const end = await checks.finish({ failed: false, interrupted: ['x'] }, transport);
    expect(end.failed).toBe(false);
    expect(transport.roundTrips).toBe(0);
    expect(r.reason).toBe('update a; not validated: interrupted');
    expect(deferred.reason).toBe('update b; not validated: its content is known only at apply time');
  });

  it('an ignore_errors task: failed but ignored, the host goes on', async () => {
    const checks = new PlanValidations(reporter([]), {});
    const r = result('a');
    checks.hold(r, { ...(run('a.conf', 'bad\n', 'false %s') as Extract<PlanCheck, { kind: 'run' }>), ignored: true });
    const end = await checks.finish({ failed: false }, new LocalTransport());
    expect(end.failed).toBe(false);
    expect(r).toMatchObject({ outcome: 'failed', ignored: true, reason: 'would fail validation: false %s exited 1 (ignored)' });
  });

  it('a rejection naming a path an earlier change of the plan makes is not validated, not failed', async () => {
    const checks = new PlanValidations(reporter([]), {});
    const dir = result('TLS directory');
    dir.reason = 'create directory /etc/haproxy/tls';
    checks.hold(dir, undefined);
    const r = result('haproxy config');
    const alert = "[ALERT] (1) : config : parsing [%s:35] : unable to stat SSL certificate from file '/etc/haproxy/tls/site.pem' : No such file or directory.";
    checks.hold(r, run('haproxy.cfg', 'x\n', `echo '[NOTICE] (1) : haproxy version is 2.6' >&2; echo "${alert}" >&2; exit 1`));
    const end = await checks.finish({ failed: false }, new LocalTransport());
    expect(end.failed).toBe(false);
    expect(r.outcome).toBe('changed');
    expect(r.reason).toBe('update haproxy config; not validated: the validator refers to /etc/haproxy/tls/site.pem, which this plan changes before this task (checked against the host as it is now)');
    expect(r.validation?.note).toContain('[ALERT]');
  });

  it('the same rejection with no earlier change naming it fails, on its error line (not the notice before it)', async () => {
    const checks = new PlanValidations(reporter([]), {});
    const other = result('motd');
    other.reason = 'update /etc/motd (12 B)';
    checks.hold(other, undefined);
    const r = result('haproxy config');
    checks.hold(r, run('haproxy.cfg', 'x\n', `echo '[NOTICE] (1) : haproxy version is 2.6' >&2; echo "[ALERT] (1) : unable to stat '/etc/haproxy/tls/site.pem'" >&2; exit 1`));
    expect((await checks.finish({ failed: false }, new LocalTransport())).failed).toBe(true);
    expect(r.reason).toBe("would fail validation: [ALERT] (1) : unable to stat '/etc/haproxy/tls/site.pem'");
  });

  it('paths changed in an earlier play of the same host count too', async () => {
    const host = {};
    const first = new PlanValidations(reporter([]), host);
    const rules = result('rules');
    rules.diff = { path: '/etc/prometheus/foobar.rules.yml', before: null, after: 'x', metaChanges: [], sensitive: false };
    first.hold(rules, undefined);
    await first.finish({ failed: false }, new LocalTransport());
    const second = new PlanValidations(reporter([]), host);
    const r = result('config');
    second.hold(r, run('prometheus.yml', 'x\n', 'echo \'  FAILED: "/etc/prometheus/foobar.rules.yml" does not point to an existing file\' >&2; exit 1'));
    await second.finish({ failed: false }, new LocalTransport());
    expect(r.validation?.status).toBe('not-validated');
  });
});
