// systemd_timer: a scheduled command for hosts without cron: NAME.service (the command, once) and
// NAME.timer (when), then enabled and started. Unit changes share the run's one daemon-reload.
import type { FactQuery, HostFacts, ServiceFact } from '../facts/types.js';
import { shellQuote } from '../shell/quote.js';
import { isUnrendered, ModuleArgs } from './args.js';
import { fileWrite, fileWriteQueries, planFileWrite, type FileWrite } from './file-write.js';
import { assumeDaemonReloaded, daemonReloadDue, markUnitFileChanged, unitNameProblem } from './systemd-units.js';
import { UNIT_DIR } from './systemd-unit.js';
import { calendarCheckId, readOnCalendar, timerFile, timerServiceFile, type TimerSpec } from './systemd-timer-files.js';
import { docArgNames, type FileDiff, type ModuleDefinition, type ModuleDoc, type PlanContext, type Step, type TaskPlan } from './types.js';

export const SYSTEMD_TIMER_DOC: ModuleDoc = {
  args: [
    { name: 'name', type: 'string', required: true, description: `Base name: writes ${UNIT_DIR}/NAME.service and NAME.timer (no suffix, "/", spaces, or leading "-").` },
    { name: 'on_calendar', type: 'string or list of strings', required: true, description: 'When to run, in systemd calendar syntax (daily, "Mon *-*-* 03:00", "*:0/15"); several give several OnCalendar= lines.' },
    { name: 'command', type: 'string', description: 'Shell text run by /bin/sh -c (one line). Required when state is present.' },
    { name: 'user', type: 'string', default: 'root', description: 'The user the command runs as.' },
    { name: 'description', type: 'string', default: 'NAME (foobar-provision timer)', description: "The service's Description=." },
    { name: 'persistent', type: 'boolean', default: 'false', description: 'Persistent=: run at boot when a run was missed while the host was off.' },
    { name: 'enabled', type: 'boolean', default: 'true', description: 'Enable and start the timer (true) or stop and disable it (false).' },
    { name: 'state', type: 'present | absent', default: 'present', description: 'absent stops and disables the timer and removes both files.' },
  ],
  example: `- name: prune the app's cache every night
  systemd_timer:
    name: app-prune
    on_calendar: "*-*-* 03:15:00"
    command: /usr/local/bin/app --prune >/dev/null
    persistent: true
`,
  notes: [
    'The alternative to cron for hosts without a cron daemon (the lab image has none).',
    'on_calendar is checked locally (one line of calendar characters, exit 2 otherwise) and then by the host\'s own `systemd-analyze calendar` in the fact probe, in the same round trip: an expression the host\'s systemd rejects fails the task before anything is written.',
    'The command is shell text: systemd\'s % specifiers and $ variables are escaped, so /bin/sh receives exactly what is written.',
    'A changed unit file causes one systemctl daemon-reload per host per run (shared with systemd_unit and service), and a running timer is restarted so its new schedule counts.',
  ],
};

export interface TimerArgs extends TimerSpec {
  state: 'present' | 'absent';
  enabled: boolean;
}

export type ResolvedTimer = TimerArgs & { service: FileWrite; timer: FileWrite };

const timerUnit = (name: string): string => `${name}.timer`;

export const systemdTimerModule: ModuleDefinition<TimerArgs, ResolvedTimer> = {
  name: 'systemd_timer',
  exactAssume: true,
  summary: 'A command run on a schedule by a systemd timer (NAME.service + NAME.timer), enabled and started.',
  doc: SYSTEMD_TIMER_DOC,
  validate(raw, where) {
    const args = ModuleArgs.read('systemd_timer', raw, where, docArgNames(SYSTEMD_TIMER_DOC));
    const name = args.requiredString('name');
    const problem = isUnrendered(name) ? undefined : unitNameProblem(name, { suffix: 'none' });
    if (problem) throw args.error('name', `timer name "${name}" ${problem}`, 'e.g. name: app-prune');
    const state = args.oneOf('state', ['present', 'absent'] as const) ?? 'present';
    const command = args.string('command');
    if (command !== undefined && !isUnrendered(command) && (/[\n\r\0]/.test(command) || command.trim() === '')) {
      throw args.error('command', '"command" must be one non-empty line of shell text', 'several commands: join them with && or ;');
    }
    if (state === 'present' && command === undefined) throw args.error(undefined, 'missing required argument "command"', 'e.g. command: /usr/local/bin/app --prune');
    const user = args.string('user') ?? 'root';
    if (!isUnrendered(user) && !/^[A-Za-z_][A-Za-z0-9_.-]{0,31}$/.test(user)) throw args.error('user', `"user" must be a user name such as root, got "${user}"`);
    const description = args.string('description') ?? `${name} (foobar-provision timer)`;
    if (/[\n\r\0]/.test(description)) throw args.error('description', '"description" must be one line');
    return {
      name,
      state,
      user,
      description,
      command: command ?? '',
      onCalendar: state === 'present' ? readOnCalendar(args) : (args.stringList('on_calendar') ?? []),
      persistent: args.boolean('persistent') ?? false,
      enabled: args.boolean('enabled') ?? true,
    };
  },
  resolve(args) {
    const meta = { mode: '0644', backup: false, sensitive: false };
    return {
      ...args,
      service: fileWrite({ ...meta, dest: `${UNIT_DIR}/${args.name}.service` }, Buffer.from(timerServiceFile(args), 'utf8'), false),
      timer: fileWrite({ ...meta, dest: `${UNIT_DIR}/${timerUnit(args.name)}` }, Buffer.from(timerFile(args), 'utf8'), false),
    };
  },
  queries(resolved) {
    const queries: FactQuery[] = [{ kind: 'service', unit: timerUnit(resolved.name) }];
    if (resolved.state === 'absent') return [...queries, { kind: 'file', path: resolved.service.dest }, { kind: 'file', path: resolved.timer.dest }];
    queries.push(...fileWriteQueries(resolved.service), ...fileWriteQueries(resolved.timer));
    for (const when of resolved.onCalendar) queries.push({ kind: 'output', id: calendarCheckId(when), command: `systemd-analyze calendar -- ${shellQuote(when)}` });
    return queries;
  },
  plan(resolved, facts, ctx) {
    return resolved.state === 'absent' ? planAbsent(resolved, facts, ctx) : planPresent(resolved, facts, ctx);
  },
};

function planPresent(timer: ResolvedTimer, facts: HostFacts, ctx: PlanContext): TaskPlan {
  for (const when of timer.onCalendar) {
    const check = facts.outputs.get(calendarCheckId(when));
    if (check === undefined) return { status: 'failed', reason: `on_calendar "${when}" was not checked on the host` };
    if (check.code !== 0) return { status: 'failed', reason: `on_calendar "${when}" is rejected by the host's systemd: ${check.output.split('\n').pop() ?? ''}` };
  }
  const fact = facts.services.get(timerUnit(timer.name));
  if (!fact || fact.loadState === 'unknown') return { status: 'failed', reason: `could not read the state of ${timerUnit(timer.name)} from systemd` };
  const writes: Array<Extract<TaskPlan, { status: 'changed' }>> = [];
  for (const write of [timer.service, timer.timer]) {
    const plan = planFileWrite(write, facts, ctx);
    if (plan.status === 'failed') return plan;
    if (plan.status === 'changed') writes.push(plan);
  }
  const timerChanged = writes.some((w) => w.diff?.path === timer.timer.dest && w.diff.contentChanged === true);
  const unitsChanged = writes.some((w) => w.unitFileChanged === true);
  const known = fact.loadState !== 'not-found';
  const active = known && (fact.activeState === 'active' || fact.activeState === 'activating');
  const enabled = known && fact.unitFileState === 'enabled';
  const unit = shellQuote(timerUnit(timer.name));
  const verbs: string[] = [];
  if (timer.enabled) {
    if (!enabled) verbs.push(`systemctl enable ${unit}`);
    // A running timer keeps its old schedule until restarted.
    if (!active) verbs.push(`systemctl start ${unit}`);
    else if (timerChanged) verbs.push(`systemctl restart ${unit}`);
  } else {
    if (active) verbs.push(`systemctl stop ${unit}`);
    if (enabled) verbs.push(`systemctl disable ${unit}`);
  }
  const reload = verbs.length > 0 && (unitsChanged || daemonReloadDue(facts, fact));
  if (reload) verbs.unshift('systemctl daemon-reload');
  if (writes.length === 0 && verbs.length === 0) {
    return { status: 'ok', reason: `${timerUnit(timer.name)} and its service match; the timer is ${timer.enabled ? 'enabled and active' : 'stopped and disabled'}` };
  }
  const steps: Step[] = writes.flatMap((w) => w.steps);
  const words = writes.map((w) => w.summary);
  if (verbs.length > 0) {
    const said = verbs.map((v) => v.replace(/^systemctl /, '').replace(` ${unit}`, ` ${timerUnit(timer.name)}`));
    words.push(said.join(', '));
    steps.push({ command: verbs.join(' && '), become: ctx.become, description: said.join(', ') });
  }
  const diff = joinDiffs(writes.flatMap((w) => (w.diff ? [w.diff] : [])), `${UNIT_DIR}/${timer.name}.{service,timer}`);
  return {
    status: 'changed',
    summary: words.join('; '),
    ...(diff ? { diff } : {}),
    steps,
    ...(unitsChanged ? { unitFileChanged: true } : {}),
    assume(cache) {
      for (const w of writes) w.assume?.(cache);
      if (reload) assumeDaemonReloaded(cache);
      if (verbs.length === 0) return;
      const after: ServiceFact = { ...(cache.services.get(timerUnit(timer.name)) ?? fact), loadState: 'loaded', needDaemonReload: false };
      after.activeState = timer.enabled ? 'active' : 'inactive';
      if (timer.enabled) after.unitFileState = 'enabled';
      else if (enabled) after.unitFileState = 'disabled';
      cache.services.set(timerUnit(timer.name), after);
    },
  };
}

function planAbsent(timer: ResolvedTimer, facts: HostFacts, ctx: PlanContext): TaskPlan {
  const fact = facts.services.get(timerUnit(timer.name));
  const files = [timer.timer.dest, timer.service.dest].filter((path) => facts.files.get(path)?.exists === true);
  const running = fact !== undefined && fact.loadState === 'loaded' && (fact.activeState === 'active' || fact.unitFileState === 'enabled');
  if (files.length === 0 && !running) return { status: 'ok', reason: `${timerUnit(timer.name)} and its service are absent` };
  const commands: string[] = [];
  if (running) commands.push(`systemctl disable --now ${shellQuote(timerUnit(timer.name))}`);
  if (files.length > 0) commands.push(`rm -f -- ${files.map(shellQuote).join(' ')}`);
  const summary = [running ? `stop and disable ${timerUnit(timer.name)}` : '', files.length > 0 ? `remove ${files.join(', ')}` : ''].filter(Boolean).join('; ');
  return {
    status: 'changed',
    summary,
    steps: [{ command: commands.join(' && '), become: ctx.become, description: summary }],
    ...(files.length > 0 ? { unitFileChanged: true } : {}),
    assume(cache) {
      for (const path of files) cache.files.set(path, { path, exists: false });
      if (fact) cache.services.set(fact.unit, { ...fact, activeState: 'inactive', unitFileState: running ? 'disabled' : fact.unitFileState });
      if (files.length > 0) markUnitFileChanged(cache, timerUnit(timer.name));
    },
  };
}

/** One diff for both files: the changed one's own, or both under a header line each. */
function joinDiffs(diffs: FileDiff[], path: string): FileDiff | undefined {
  if (diffs.length <= 1) return diffs[0];
  const text = (d: FileDiff, side: 'before' | 'after'): string => `### ${d.path}\n${d[side] ?? ''}`;
  if (diffs.some((d) => d.binary || d.sensitive)) return { ...diffs[0]!, path, metaChanges: diffs.flatMap((d) => d.metaChanges) };
  return {
    path,
    before: diffs.every((d) => d.before === null) ? null : diffs.map((d) => text(d, 'before')).join('\n'),
    after: diffs.map((d) => text(d, 'after')).join('\n'),
    metaChanges: diffs.flatMap((d) => d.metaChanges.map((m) => `${d.path}: ${m}`)),
    sensitive: false,
    contentChanged: true,
  };
}
