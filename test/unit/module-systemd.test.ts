// The systemd area on captured facts: systemd_unit, systemd_timer, cron, service masked, the
// shell/systemd aliases, and the one daemon-reload a run owes a host after unit file changes.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import type { HostFacts } from '../../src/facts/types.js';
import { cronModule } from '../../src/modules/cron.js';
import { modules } from '../../src/modules/registry.js';
import { serviceModule } from '../../src/modules/service.js';
import { shellModule } from '../../src/modules/shell-command.js';
import { systemdTimerModule } from '../../src/modules/systemd-timer.js';
import { execStartShell } from '../../src/modules/systemd-timer-files.js';
import { systemdUnitModule } from '../../src/modules/systemd-unit.js';
import type { AnyModule, ResolveContext, TaskPlan } from '../../src/modules/types.js';
import { ctx, dir, facts, file, missing, service, where } from '../fixtures/facts/fake-facts.js';

const resolveCtx = (keys: string[]): ResolveContext => ({
  vars: {}, secretVarNames: new Set(), searchPath: [], evaluate: () => undefined, where: where(keys),
});

async function planOf(module: AnyModule, raw: Record<string, unknown>, host: HostFacts): Promise<TaskPlan> {
  const keys = Object.keys(raw);
  const resolved = await module.resolve(module.validate(raw, where(keys)), resolveCtx(keys));
  return module.plan(resolved, host, ctx);
}

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

const UNIT = '[Unit]\nDescription=app\n[Service]\nExecStart=/bin/sleep infinity\n';
const changed = (plan: TaskPlan): Extract<TaskPlan, { status: 'changed' }> => {
  if (plan.status !== 'changed') throw new Error(`expected a change, got ${JSON.stringify(plan)}`);
  return plan;
};

describe('systemd_unit', () => {
  it('refuses unit names that are paths, hold spaces or start with "-" (file:line)', () => {
    for (const name of ['../x.service', 'a b.service', '-x.service', 'x', 'dir/x.service', 'x.service\n']) {
      const error = configError(() => systemdUnitModule.validate({ name, content: UNIT }, where(['name', 'content'])));
      expect(error.where).toEqual({ file: 'playbooks/site.yml', line: 12 });
    }
    expect(() => systemdUnitModule.validate({ name: 'x.service', dropin: '../evil', content: UNIT }, where(['name', 'dropin', 'content']))).toThrow(/drop-in name/);
    expect(() => systemdUnitModule.validate({ name: 'x.service' }, where(['name']))).toThrow(/missing "content" or "src"/);
  });

  it('a new unit file: a diff, and a daemon-reload becomes due', async () => {
    const host = facts({ files: [missing('/etc/systemd/system/app.service'), dir('/etc/systemd/system')] });
    const plan = changed(await planOf(systemdUnitModule, { name: 'app.service', content: UNIT }, host));
    expect(plan.diff).toMatchObject({ path: '/etc/systemd/system/app.service', before: null, after: UNIT });
    expect(plan.unitFileChanged).toBe(true);
    plan.assume?.(host);
    expect(host.daemonReloadPending).toBe(true);
  });

  it('content holding <% is written as it is', async () => {
    const text = 'Environment=X=<%= process.exit(1) %>\n';
    const host = facts({ files: [missing('/etc/systemd/system/app.service'), dir('/etc/systemd/system')] });
    expect(changed(await planOf(systemdUnitModule, { name: 'app.service', content: text }, host)).diff?.after).toBe(text);
  });

  it('ok when the file matches; a manual edit shows as a diff', async () => {
    const same = facts({ files: [file('/etc/systemd/system/app.service', UNIT), dir('/etc/systemd/system')] });
    expect(await planOf(systemdUnitModule, { name: 'app.service', content: UNIT }, same)).toMatchObject({ status: 'ok' });
    const edited = facts({ files: [file('/etc/systemd/system/app.service', `${UNIT}# edited\n`), dir('/etc/systemd/system')] });
    expect(changed(await planOf(systemdUnitModule, { name: 'app.service', content: UNIT }, edited)).diff).toMatchObject({ before: `${UNIT}# edited\n`, after: UNIT });
  });

  it('a drop-in goes to NAME.d/DROPIN.conf, making the directory first', async () => {
    const host = facts({ files: [missing('/etc/systemd/system/app.service.d/limits.conf'), missing('/etc/systemd/system/app.service.d')] });
    const plan = changed(await planOf(systemdUnitModule, { name: 'app.service', dropin: 'limits', content: '[Service]\nLimitNOFILE=4096\n' }, host));
    expect(plan.steps[0]?.command).toBe('mkdir -p -m 0755 -- /etc/systemd/system/app.service.d');
    expect(plan.diff?.path).toBe('/etc/systemd/system/app.service.d/limits.conf');
    plan.assume?.(host);
    expect(host.files.get('/etc/systemd/system/app.service.d')?.exists).toBe(true);
  });

  it('absent removes the file and makes a reload due', async () => {
    const host = facts({ files: [file('/etc/systemd/system/app.service', UNIT)] });
    const plan = changed(await planOf(systemdUnitModule, { name: 'app.service', state: 'absent' }, host));
    expect(plan.steps[0]?.command).toBe('rm -f -- /etc/systemd/system/app.service');
    plan.assume?.(host);
    expect(host.daemonReloadPending).toBe(true);
    expect(await planOf(systemdUnitModule, { name: 'app.service', state: 'absent' }, facts({ files: [missing('/etc/systemd/system/app.service')] }))).toMatchObject({ status: 'ok' });
  });
});

describe('one daemon-reload per host per run', () => {
  it('unit changes, then two service tasks: only the first reloads', async () => {
    const host = facts({
      files: [missing('/etc/systemd/system/a.service'), missing('/etc/systemd/system/b.service'), dir('/etc/systemd/system')],
      services: [service('a.service', { loadState: 'not-found', activeState: 'inactive', unitFileState: '' }), service('b.service', { loadState: 'not-found', activeState: 'inactive', unitFileState: '' })],
    });
    for (const name of ['a.service', 'b.service']) changed(await planOf(systemdUnitModule, { name, content: UNIT }, host)).assume?.(host);
    const first = changed(await planOf(serviceModule, { name: 'a.service', state: 'started' }, host));
    expect(first.steps[0]?.command).toBe('systemctl daemon-reload && systemctl start a.service');
    first.assume?.(host);
    expect(host.daemonReloadPending).toBe(false);
    const second = changed(await planOf(serviceModule, { name: 'b.service', state: 'started', enabled: true }, host));
    expect(second.steps[0]?.command).toBe('systemctl start b.service && systemctl enable b.service');
  });

  it('a handler that restarts the changed unit reloads first, once', async () => {
    const host = facts({ files: [file('/etc/systemd/system/app.service', 'old\n'), dir('/etc/systemd/system')], services: [service('app')] });
    changed(await planOf(systemdUnitModule, { name: 'app.service', content: UNIT }, host)).assume?.(host);
    const restart = changed(await planOf(serviceModule, { name: 'app', state: 'restarted' }, host));
    expect(restart.steps[0]?.command).toBe('systemctl daemon-reload && systemctl restart app');
    restart.assume?.(host);
    expect(changed(await planOf(serviceModule, { name: 'app', state: 'restarted' }, host)).steps[0]?.command).toBe('systemctl restart app');
  });

  it('a service with nothing to do does not take the reload (the play end does)', async () => {
    const host = facts({ services: [service('nginx')] });
    host.daemonReloadPending = true;
    expect(await planOf(serviceModule, { name: 'nginx', state: 'started' }, host)).toMatchObject({ status: 'ok' });
    expect(host.daemonReloadPending).toBe(true);
  });
});

describe('service masked', () => {
  it('masks and unmasks', async () => {
    expect(changed(await planOf(serviceModule, { name: 'x', masked: true }, facts({ services: [service('x', { activeState: 'inactive', unitFileState: 'disabled' })] }))).steps[0]?.command).toBe('systemctl mask x');
    expect(changed(await planOf(serviceModule, { name: 'x', state: 'stopped', masked: true }, facts({ services: [service('x')] }))).steps[0]?.command).toBe('systemctl stop x && systemctl mask x');
    expect(await planOf(serviceModule, { name: 'x', masked: true }, facts({ services: [service('x', { loadState: 'masked', unitFileState: 'masked', activeState: 'inactive' })] }))).toMatchObject({ status: 'ok', reason: 'x is masked' });
    const unmask = changed(await planOf(serviceModule, { name: 'x', masked: false, state: 'started' }, facts({ services: [service('x', { loadState: 'masked', unitFileState: 'masked', activeState: 'inactive' })] })));
    expect(unmask.steps[0]?.command).toBe('systemctl unmask x && systemctl start x');
    // After an unmask systemd decides the enablement: a later enabled: acts rather than guesses.
    const host = facts({ services: [service('x', { loadState: 'masked', unitFileState: 'masked', activeState: 'inactive' })] });
    unmask.assume?.(host);
    expect(changed(await planOf(serviceModule, { name: 'x', enabled: false }, host)).steps[0]?.command).toBe('systemctl disable x');
  });

  it('a unit that does not exist can be masked, and is not masked', async () => {
    expect(await planOf(serviceModule, { name: 'ghost.service', masked: false }, facts({ services: [service('ghost.service', { loadState: 'not-found', activeState: 'inactive', unitFileState: '' })] }))).toEqual({ status: 'ok', reason: 'ghost.service is not masked (no such unit)' });
    expect(changed(await planOf(serviceModule, { name: 'ghost.service', masked: true }, facts({ services: [service('ghost.service', { loadState: 'not-found', activeState: 'inactive', unitFileState: '' })] }))).summary).toBe('mask ghost.service');
  });

  it('a masked unit cannot be started: exit 2 when asked together, a clear failure when the host has it masked', async () => {
    expect(() => serviceModule.validate({ name: 'x', state: 'started', masked: true }, where(['name', 'state', 'masked']))).toThrow(/a masked unit cannot be started/);
    expect(() => serviceModule.validate({ name: 'x', enabled: true, masked: true }, where(['name', 'enabled', 'masked']))).toThrow(ConfigError);
    expect(await planOf(serviceModule, { name: 'x', state: 'started' }, facts({ services: [service('x', { loadState: 'masked', unitFileState: 'masked', activeState: 'inactive' })] }))).toMatchObject({
      status: 'failed', reason: expect.stringContaining('masked: false'),
    });
  });
});

describe('aliases', () => {
  it('systemd is service: same doc, same plan', async () => {
    const systemd = modules.get('systemd')!;
    expect(systemd.doc?.args).toBe(serviceModule.doc?.args);
    expect(systemd.doc?.example).toBe(serviceModule.doc?.example.replace('service:', 'systemd:'));
    expect(await planOf(systemd, { name: 'x', masked: true }, facts({ services: [service('x', { activeState: 'inactive', unitFileState: 'disabled' })] }))).toMatchObject({ steps: [{ command: 'systemctl mask x' }] });
    expect(() => systemd.validate({ name: 'x', state: 'bogus' }, where(['name', 'state']))).toThrow(/^systemd: "state" must be one of/);
  });

  it('shell runs its text through /bin/sh -c; argv is refused', async () => {
    const plan = changed(await planOf(shellModule, { cmd: "ls /srv | wc -l > '/tmp/n'" }, facts()));
    expect(plan.steps[0]?.command).toBe(`/bin/sh -c 'ls /srv | wc -l > '\\''/tmp/n'\\'''`);
    const free = await shellModule.resolve(shellModule.validate('echo $HOME', where()), resolveCtx([]));
    expect(free.cmd).toBe("/bin/sh -c 'echo $HOME'");
    expect(() => shellModule.validate({ argv: ['ls', '-l'] }, where(['argv']))).toThrow(/takes no "argv"/);
    expect(() => shellModule.validate({ cmd: ' ' }, where(['cmd']))).toThrow(/^shell: missing the shell text/);
  });
});

describe('cron', () => {
  const present = facts({ files: [missing('/etc/cron.d/app-backup'), dir('/etc/cron.d')] });

  it('writes the named file with the five fields, user and env', async () => {
    const plan = changed(await planOf(cronModule, { name: 'app-backup', minute: '15', hour: '*/6', job: 'echo hi \\% >> /tmp/x', env: { MAILTO: '', PATH: '/usr/bin:/bin' } }, present));
    expect(plan.diff?.after).toBe('# cron job app-backup, written by foobar-provision: edits here are put back on the next apply\nMAILTO=""\nPATH=/usr/bin:/bin\n15 */6 * * * root echo hi \\% >> /tmp/x\n');
    expect(changed(await planOf(cronModule, { name: 'app-backup', special_time: 'daily', user: 'www-data', job: 'true' }, present)).diff?.after).toContain('\n@daily www-data true\n');
  });

  it('refuses bad fields, names and jobs with file:line', () => {
    const bad: Array<[Record<string, unknown>, RegExp]> = [
      [{ name: 'a.b', job: 'x' }, /cannot be a file name/],
      [{ name: '../x', job: 'x' }, /cannot be a file name/],
      [{ name: 'a', minute: '60', job: 'x' }, /outside 0-59/],
      [{ name: 'a', hour: '5-2', job: 'x' }, /backwards/],
      [{ name: 'a', weekday: 'funday', job: 'x' }, /not \*, N/],
      [{ name: 'a', job: 'echo a\n* * * * * root rm -rf /' }, /one line/],
      [{ name: 'a', job: 'date +%F' }, /\\%/],
      [{ name: 'a', special_time: 'daily', minute: '5', job: 'x' }, /not both/],
      [{ name: 'a', env: { 'BAD NAME': 'x' }, job: 'x' }, /not a variable name/],
      [{ name: 'a', env: { X: 'a\nb' }, job: 'x' }, /one line/],
      [{ name: 'a' }, /missing required argument "job"/],
    ];
    for (const [raw, message] of bad) {
      const error = configError(() => cronModule.validate(raw, where(Object.keys(raw))));
      expect(error.message).toMatch(message);
    }
  });

  it('absent removes the file', async () => {
    expect(changed(await planOf(cronModule, { name: 'a', state: 'absent' }, facts({ files: [file('/etc/cron.d/a', 'x')] }))).steps[0]?.command).toBe('rm -f -- /etc/cron.d/a');
  });
});

describe('systemd_timer', () => {
  const raw = { name: 'prune', on_calendar: '*:0/15', command: 'echo "$HOME" 50% > /tmp/p' };
  const fresh = (): HostFacts => {
    const host = facts({
      files: [missing('/etc/systemd/system/prune.service'), missing('/etc/systemd/system/prune.timer'), dir('/etc/systemd/system')],
      services: [service('prune.timer', { loadState: 'not-found', activeState: 'inactive', unitFileState: '' })],
    });
    host.outputs.set('systemd_timer:calendar:*:0/15', { code: 0, output: 'Normalized form: *-*-* *:00/15:00' });
    return host;
  };

  it('ExecStart escapes systemd specifiers and variables', () => {
    expect(execStartShell('echo "$HOME" 50% \\n')).toBe('/bin/sh -c "echo \\"$$HOME\\" 50%% \\\\n"');
  });

  it('writes both units, reloads once, enables and starts the timer', async () => {
    const host = fresh();
    const plan = changed(await planOf(systemdTimerModule, raw, host));
    expect(plan.steps.map((s) => s.description)).toEqual(['write /etc/systemd/system/prune.service', 'write /etc/systemd/system/prune.timer', 'daemon-reload, enable prune.timer, start prune.timer']);
    expect(plan.diff?.after).toContain('OnCalendar=*:0/15');
    expect(plan.diff?.after).toContain('ExecStart=/bin/sh -c "echo \\"$$HOME\\" 50%% > /tmp/p"');
    plan.assume?.(host);
    expect(host.daemonReloadPending).toBe(false);
    expect(await planOf(systemdTimerModule, raw, host)).toMatchObject({ status: 'ok' });
  });

  it('an expression the host rejects fails before anything is written; garbage is exit 2', async () => {
    const host = fresh();
    host.outputs.set('systemd_timer:calendar:*:0/15', { code: 1, output: 'Failed to parse calendar specification' });
    expect(await planOf(systemdTimerModule, raw, host)).toMatchObject({ status: 'failed', reason: expect.stringContaining('rejected') });
    expect(() => systemdTimerModule.validate({ ...raw, on_calendar: 'daily; rm -rf /' }, where(['name', 'on_calendar', 'command']))).toThrow(ConfigError);
    expect(() => systemdTimerModule.validate({ ...raw, name: 'prune.timer' }, where(['name']))).toThrow(/without ".timer"/);
    expect(() => systemdTimerModule.validate({ ...raw, command: 'a\nb' }, where(['command']))).toThrow(/one non-empty line/);
  });
});

describe('docs of the systemd area', () => {
  it('each example validates, and the README names every argument', async () => {
    const { parse } = await import('yaml');
    const { readFileSync } = await import('node:fs');
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    for (const name of ['systemd_unit', 'systemd_timer', 'cron', 'shell', 'systemd', 'service']) {
      const module = modules.get(name)!;
      const doc = module.doc!;
      const { parsePlaybook } = await import('../../src/config/playbook.js');
      const book = `- hosts: all\n  tasks:\n${doc.example.replace(/^/gm, '    ')}`;
      await expect(parsePlaybook(book, '/tmp/doc.yml', { knownModules: new Set(modules.keys()) }), name).resolves.toBeDefined();
      const [task] = parse(doc.example) as Array<Record<string, unknown>>;
      const moduleKey = Object.keys(task!).find((k) => modules.has(k))!;
      const raw = task![moduleKey];
      expect(() => modules.get(moduleKey)!.validate(raw, where(typeof raw === 'object' && raw ? Object.keys(raw) : [])), name).not.toThrow();
      for (const arg of doc.args) expect(readme.includes(`\`${arg.name}\``), `${name}: README names ${arg.name}`).toBe(true);
    }
  });
});

describe('systemd_unit from a template', () => {
  it('renders src found on the search path with the host vars; a missing one names the search path', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dirPath = mkdtempSync(join(tmpdir(), 'unit-src-'));
    writeFileSync(join(dirPath, 'app.service.ejs'), '[Service]\nExecStart=/usr/bin/app --port <%= port %>\n');
    const args = systemdUnitModule.validate({ name: 'app.service', src: 'app.service.ejs' }, where(['name', 'src']));
    const resolved = await systemdUnitModule.resolve(args, { ...resolveCtx(['name', 'src']), vars: { port: 8080 }, searchPath: [dirPath] });
    const host = facts({ files: [missing('/etc/systemd/system/app.service'), dir('/etc/systemd/system')] });
    expect(changed(systemdUnitModule.plan(resolved, host, ctx)).diff?.after).toBe('[Service]\nExecStart=/usr/bin/app --port 8080\n');
    await expect(systemdUnitModule.resolve(systemdUnitModule.validate({ name: 'app.service', src: 'nope.ejs' }, where(['name', 'src'])), { ...resolveCtx(['name', 'src']), searchPath: [dirPath] })).rejects.toThrow(/not found/);
  });
});

describe('file absent on a unit path', () => {
  it('removing a unit file or a drop-in directory makes the reload due', async () => {
    const { fileModule } = await import('../../src/modules/file.js');
    for (const path of ['/etc/systemd/system/app.service', '/etc/systemd/system/app.service.d']) {
      const host = facts({ files: [path.endsWith('.d') ? dir(path) : file(path, UNIT)] });
      const plan = changed(await planOf(fileModule, { path, state: 'absent' }, host));
      expect(plan.unitFileChanged, path).toBe(true);
      plan.assume?.(host);
      expect(host.daemonReloadPending, path).toBe(true);
    }
    const other = facts({ files: [file('/etc/app.conf', 'x')] });
    changed(await planOf(fileModule, { path: '/etc/app.conf', state: 'absent' }, other)).assume?.(other);
    expect(other.daemonReloadPending).toBeUndefined();
  });
});
