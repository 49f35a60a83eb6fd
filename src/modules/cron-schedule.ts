// The five time fields of a cron line and the @-schedules, checked before anything reaches a host:
// cron skips a bad line with a message in syslog only, so the job would silently never run.

export const SPECIAL_TIMES = ['reboot', 'yearly', 'annually', 'monthly', 'weekly', 'daily', 'midnight', 'hourly'] as const;

interface FieldRule {
  key: 'minute' | 'hour' | 'day' | 'month' | 'weekday';
  min: number;
  max: number;
  names?: readonly string[];
}

export const CRON_FIELDS: readonly FieldRule[] = [
  { key: 'minute', min: 0, max: 59 },
  { key: 'hour', min: 0, max: 23 },
  { key: 'day', min: 1, max: 31 },
  { key: 'month', min: 1, max: 12, names: ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'] },
  // 0 and 7 are both Sunday.
  { key: 'weekday', min: 0, max: 7, names: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] },
];

/** Why `value` is not a valid cron field, or undefined when it is. */
export function cronFieldProblem(rule: FieldRule, value: string): string | undefined {
  if (value === '') return 'is empty';
  if (rule.names?.includes(value.toLowerCase())) return undefined;
  for (const item of value.split(',')) {
    const match = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(item);
    if (!match) return `has "${item}", which is not *, N, N-M or one of these with /STEP${rule.names ? ` (or one name such as ${rule.names[0]})` : ''}`;
    const [, , from, to, step] = match;
    for (const n of [from, to]) {
      if (n !== undefined && (Number(n) < rule.min || Number(n) > rule.max)) return `has ${n}, outside ${rule.min}-${rule.max}`;
    }
    if (from !== undefined && to !== undefined && Number(from) > Number(to)) return `has the range ${from}-${to}, which runs backwards`;
    if (step !== undefined && Number(step) === 0) return 'has a step of 0';
  }
  return undefined;
}

/** Why a job's command cannot go on a cron line, or undefined. */
export function cronJobProblem(job: string): string | undefined {
  if (/[\n\r\0]/.test(job)) return 'must be one line (cron would read the rest as another entry)';
  // cron turns an unescaped % into a newline and feeds the rest to the command's stdin.
  if (/(^|[^\\])%/.test(job)) return 'holds a "%", which cron turns into a newline; write \\% for a literal %';
  return undefined;
}
