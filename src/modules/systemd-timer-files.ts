// The two unit files a systemd_timer writes: NAME.service runs the command once, NAME.timer says when.
import { isUnrendered, type ModuleArgs } from './args.js';

export interface TimerSpec {
  name: string;
  description: string;
  onCalendar: string[];
  command: string;
  user: string;
  persistent: boolean;
}

/** Shell text for ExecStart=/bin/sh -c "...": systemd's own quoting, with its % specifiers and
 *  $ variables escaped, so the shell receives exactly the text written. */
export function execStartShell(command: string): string {
  const quoted = command.replace(/[\\"%$]/g, (c) => ({ '\\': '\\\\', '"': '\\"', '%': '%%', $: '$$' })[c] ?? c);
  return `/bin/sh -c "${quoted}"`;
}

export function timerServiceFile(spec: TimerSpec): string {
  return [
    `# written by foobar-provision (systemd_timer ${spec.name}): edits here are put back on the next apply`,
    '[Unit]',
    // Description= expands % specifiers: a literal % is written %%.
    `Description=${spec.description.replaceAll('%', '%%')}`,
    '',
    '[Service]',
    'Type=oneshot',
    `User=${spec.user}`,
    `ExecStart=${execStartShell(spec.command)}`,
    '',
  ].join('\n');
}

export function timerFile(spec: TimerSpec): string {
  return [
    `# written by foobar-provision (systemd_timer ${spec.name}): edits here are put back on the next apply`,
    '[Unit]',
    `Description=Schedule of ${spec.name}.service`,
    '',
    '[Timer]',
    ...spec.onCalendar.map((when) => `OnCalendar=${when}`),
    `Persistent=${spec.persistent ? 'true' : 'false'}`,
    '',
    '[Install]',
    'WantedBy=timers.target',
    '',
  ].join('\n');
}

/**
 * The local check of an OnCalendar expression: one line of the characters systemd's calendar
 * syntax uses. Its meaning is checked on the host by `systemd-analyze calendar` in the fact
 * probe (same round trip), which knows every form the host's systemd accepts.
 */
export function readOnCalendar(args: ModuleArgs): string[] {
  const list = args.stringList('on_calendar') ?? [];
  if (list.length === 0) throw args.error(undefined, 'missing required argument "on_calendar"', 'e.g. on_calendar: daily, or "*-*-* 03:15:00"');
  for (const when of list) {
    if (isUnrendered(when)) continue;
    if (when.trim() === '') throw args.error('on_calendar', '"on_calendar" must not be empty');
    if (!/^[A-Za-z0-9 *,./:~+_-]+$/.test(when)) {
      throw args.error('on_calendar', `"${when}" is not a systemd calendar expression (one line of letters, digits, spaces and * , . / : ~ + - _)`, 'e.g. daily, Mon *-*-* 03:00:00, *:0/15');
    }
  }
  return list;
}

/** The probe's check of an expression with the host's own systemd. */
export function calendarCheckId(when: string): string {
  return `systemd_timer:calendar:${when}`;
}
