// cron: one named job in /etc/cron.d/NAME, a file we own whole (so no marker comments to find).
import { isUnrendered, ModuleArgs } from './args.js';
import { CRON_FIELDS, cronFieldProblem, cronJobProblem, SPECIAL_TIMES } from './cron-schedule.js';
import { fileWrite, fileWriteQueries, planFileWrite, type FileWrite } from './file-write.js';
import { shellQuote } from '../shell/quote.js';
import { docArgNames, type ModuleDefinition, type ModuleDoc, type TaskPlan } from './types.js';

export const CRON_DIR = '/etc/cron.d';

export const CRON_DOC: ModuleDoc = {
  args: [
    { name: 'name', type: 'string', required: true, description: `The job's file name in ${CRON_DIR}: letters, digits, "_" and "-" only (cron ignores files with other names, dots included).` },
    { name: 'job', type: 'string', description: 'The command line, run by /bin/sh. One line; a literal % must be written \\%. Required when state is present.' },
    { name: 'minute', type: 'string', default: '*', description: '0-59, with *, lists (1,5), ranges (1-5) and steps (*/15).' },
    { name: 'hour', type: 'string', default: '*', description: '0-23, same forms as minute.' },
    { name: 'day', type: 'string', default: '*', description: 'Day of the month, 1-31.' },
    { name: 'month', type: 'string', default: '*', description: '1-12, or one name (jan ... dec).' },
    { name: 'weekday', type: 'string', default: '*', description: '0-7 (0 and 7 are Sunday), or one name (sun ... sat).' },
    { name: 'special_time', type: SPECIAL_TIMES.join(' | '), description: 'Instead of the five fields: @reboot, @daily, ...' },
    { name: 'user', type: 'string', default: 'root', description: 'The user the job runs as.' },
    { name: 'env', type: 'map', description: 'Variables set for the job (e.g. MAILTO: "", PATH: /usr/local/bin:/usr/bin:/bin), written above the job line.' },
    { name: 'state', type: 'present | absent', default: 'present', description: 'absent removes the file.' },
  ],
  example: `- name: rotate the app's cache nightly
  cron:
    name: app-cache
    minute: "15"
    hour: "3"
    job: /usr/local/bin/app-cache --prune
    env:
      MAILTO: ""
`,
  notes: [
    `The file ${CRON_DIR}/NAME is written whole (0644 root), with a diff in plan; a manual edit shows as a diff and is put back.`,
    'The lab image has no cron daemon: the file is written and checked, but nothing runs it there. Use systemd_timer on hosts without cron.',
  ],
};

export interface CronArgs {
  name: string;
  state: 'present' | 'absent';
  schedule: string;
  user: string;
  job?: string;
  env: Array<[string, string]>;
}

export type ResolvedCron = { state: 'present'; write: FileWrite } | { state: 'absent'; path: string };

export const cronModule: ModuleDefinition<CronArgs, ResolvedCron> = {
  name: 'cron',
  exactAssume: true,
  summary: `A named job in ${CRON_DIR} (five fields or @special_time, user, env), with a diff in plan.`,
  doc: CRON_DOC,
  validate(raw, where) {
    const args = ModuleArgs.read('cron', raw, where, docArgNames(CRON_DOC));
    const name = args.requiredString('name');
    if (!isUnrendered(name) && !/^[A-Za-z0-9_-]{1,64}$/.test(name)) {
      throw args.error('name', `"${name}" cannot be a file name in ${CRON_DIR}: use letters, digits, "_" and "-" (cron skips names with dots or other characters)`, 'e.g. name: app-backup');
    }
    const state = args.oneOf('state', ['present', 'absent'] as const) ?? 'present';
    const user = readUser(args);
    const special = args.oneOf('special_time', SPECIAL_TIMES);
    const fields: string[] = [];
    for (const rule of CRON_FIELDS) {
      const value = (args.string(rule.key) ?? '*').trim();
      if (special !== undefined && args.has(rule.key)) throw args.error(rule.key, `give either special_time or "${rule.key}", not both`);
      const problem = isUnrendered(value) ? undefined : cronFieldProblem(rule, value);
      if (problem) throw args.error(rule.key, `"${rule.key}" ${problem}`, `e.g. ${rule.key}: "*/15" or ${rule.key}: "${rule.min}"`);
      fields.push(value);
    }
    const job = args.string('job');
    if (job !== undefined && !isUnrendered(job)) {
      const problem = job.trim() === '' ? 'must not be empty' : cronJobProblem(job);
      if (problem) throw args.error('job', `"job" ${problem}`);
    }
    if (state === 'present' && job === undefined) throw args.error(undefined, 'missing required argument "job"', 'e.g. job: /usr/local/bin/backup');
    const env = readEnv(args);
    return { name, state, user, env, schedule: special !== undefined ? `@${special}` : fields.join(' '), ...(job !== undefined ? { job } : {}) };
  },
  resolve(args) {
    const path = `${CRON_DIR}/${args.name}`;
    if (args.state === 'absent') return { state: 'absent', path };
    return { state: 'present', write: fileWrite({ dest: path, mode: '0644', owner: 'root', group: 'root', backup: false, sensitive: false }, Buffer.from(cronFile(args), 'utf8'), false) };
  },
  queries(resolved) {
    return resolved.state === 'absent' ? [{ kind: 'file', path: resolved.path }] : fileWriteQueries(resolved.write);
  },
  plan(resolved, facts, ctx): TaskPlan {
    if (resolved.state === 'present') return planFileWrite(resolved.write, facts, ctx);
    const fact = facts.files.get(resolved.path);
    if (!fact) return { status: 'failed', reason: `no facts gathered for ${resolved.path}` };
    if (!fact.exists) return { status: 'ok', reason: `${resolved.path} is absent` };
    return {
      status: 'changed',
      summary: `remove ${resolved.path}`,
      steps: [{ command: `rm -f -- ${shellQuote(resolved.path)}`, become: ctx.become, description: `remove ${resolved.path}` }],
      assume: (cache) => void cache.files.set(resolved.path, { path: resolved.path, exists: false }),
    };
  },
};

function readUser(args: ModuleArgs): string {
  const user = args.string('user') ?? 'root';
  if (!isUnrendered(user) && !/^[A-Za-z_][A-Za-z0-9_.-]{0,31}$/.test(user)) {
    throw args.error('user', `"user" must be a user name such as root, got "${user}"`);
  }
  return user;
}

function readEnv(args: ModuleArgs): Array<[string, string]> {
  const raw = args.value('env');
  if (raw === undefined) return [];
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw args.error('env', '"env" must be a map of NAME: value');
  return Object.entries(raw as Record<string, unknown>).map(([key, value]) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw args.error('env', `"${key}" is not a variable name`, 'letters, digits and "_", not starting with a digit');
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') throw args.error('env', `env ${key} must be text, got a ${Array.isArray(value) ? 'list' : typeof value}`);
    const text = String(value);
    if (/[\n\r\0]/.test(text)) throw args.error('env', `env ${key} must be one line`);
    // cron takes a value in quotes as it is, with no escapes: one kind of quote must be free.
    if (text.includes('"') && text.includes("'")) throw args.error('env', `env ${key} holds both kinds of quote, which cron cannot express`);
    return [key, text];
  });
}

/** The file: a header that says who owns it, the variables, the job line. */
export function cronFile(args: CronArgs): string {
  const env = args.env.map(([key, value]) => `${key}=${cronValue(value)}`);
  return [`# cron job ${args.name}, written by foobar-provision: edits here are put back on the next apply`, ...env, `${args.schedule} ${args.user} ${args.job ?? ''}`, ''].join('\n');
}

/** A value as cron reads it: bare when plain, else in the quote it does not hold. */
function cronValue(value: string): string {
  if (value !== '' && /^[A-Za-z0-9_./:@,+-]+$/.test(value)) return value;
  return value.includes('"') ? `'${value}'` : `"${value}"`;
}
