// hostname: the live name, /etc/hostname (the name at boot) and /etc/hosts resolving it, all read
// in the probe; /etc/hosts is written first so sudo never sees a name it cannot resolve.
import { shellQuote } from '../shell/quote.js';
import { isUnrendered, ModuleArgs } from './args.js';
import { fileEditQueries, planFileEdit, type FileEditTarget } from './file-edit.js';
import { ensureHostsEntry } from './hosts-file.js';
import { docArgNames, type FileDiff, type ModuleDefinition, type ModuleDoc, type Step } from './types.js';

export interface HostnameArgs {
  name: string;
}

/** A host name as the kernel takes it (at most 64 bytes): DNS labels of letters, digits and '-'. */
const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const HOSTNAME = new RegExp(`^${LABEL}(?:\\.${LABEL})*$`);

export const LIVE_HOSTNAME_QUERY = 'hostname';

export const hostnameDoc: ModuleDoc = {
  args: [
    { name: 'name', type: 'string', required: true, description: 'The host name (letters, digits, "-" and "." between labels; at most 64 characters).' },
  ],
  example: [
    '- name: the host knows its name',
    '  hostname:',
    '    name: web1.example.com',
  ].join('\n'),
  notes: [
    'Sets the live name (hostname NAME), writes /etc/hostname, and makes /etc/hosts resolve the name: when no line names it, the 127.0.1.1 line is made to (Debian\'s convention), so sudo does not warn "unable to resolve host".',
    'A name with dots also gets its first label as an alias on the 127.0.1.1 line.',
  ],
};

const fileTarget = (path: string): FileEditTarget => ({ path, create: true, backup: false, sensitive: false });

export const hostnameModule: ModuleDefinition<HostnameArgs> = {
  name: 'hostname',
  exactAssume: true,
  summary: 'Set the host name live and in /etc/hostname, and keep /etc/hosts resolving it.',
  doc: hostnameDoc,
  validate(raw, where) {
    const args = ModuleArgs.read('hostname', raw, where, docArgNames(hostnameDoc));
    const name = args.requiredString('name');
    if (!isUnrendered(name) && (!HOSTNAME.test(name) || name.length > 64)) {
      throw args.error('name', `"${name}" is not a host name`, 'letters, digits and "-" in labels joined by ".", at most 64 characters, e.g. web1 or web1.example.com');
    }
    return { name };
  },
  resolve: (args) => args,
  queries: (args) => [
    { kind: 'output', id: LIVE_HOSTNAME_QUERY, command: 'uname -n' },
    ...fileEditQueries('/etc/hosts'),
    ...fileEditQueries('/etc/hostname'),
  ],
  plan(args, facts, ctx) {
    const live = facts.outputs.get(LIVE_HOSTNAME_QUERY);
    if (!live || live.code !== 0) return { status: 'failed', reason: 'could not read the live host name (uname -n)' };
    const current = live.output.trim();
    const hosts = planFileEdit(fileTarget('/etc/hosts'), facts, ctx, (text) => ensureHostsEntry(text, args.name));
    const boot = planFileEdit(fileTarget('/etc/hostname'), facts, ctx, (text) =>
      text !== null && text.trim() === args.name
        ? { kind: 'same', reason: `/etc/hostname says ${args.name}` }
        : { kind: 'edit', content: `${args.name}\n`, what: text === null ? args.name : `${text.trim()} -> ${args.name}` });
    if (hosts.status === 'failed') return hosts;
    if (boot.status === 'failed') return boot;
    const liveSame = current === args.name;
    if (liveSame && hosts.status === 'ok' && boot.status === 'ok') {
      return { status: 'ok', reason: `live host name is ${args.name}; ${boot.reason}; ${hosts.reason}` };
    }
    const steps: Step[] = [];
    const words: string[] = [];
    let diff: FileDiff | undefined;
    for (const plan of [hosts, boot]) {
      if (plan.status !== 'changed') continue;
      steps.push(...plan.steps);
      words.push(plan.summary);
      diff ??= plan.diff;
    }
    if (!liveSame) {
      steps.push({ command: `hostname ${shellQuote(args.name)}`, become: ctx.become, description: `set the live host name to ${args.name}` });
      words.unshift(`live ${current} -> ${args.name}`);
    }
    return {
      status: 'changed',
      summary: `host name ${args.name}: ${words.join('; ')}`,
      ...(diff ? { diff } : {}),
      steps,
      assume: (cache) => {
        if (hosts.status === 'changed') hosts.assume?.(cache);
        if (boot.status === 'changed') boot.assume?.(cache);
        cache.outputs.set(LIVE_HOSTNAME_QUERY, { code: 0, output: args.name });
      },
    };
  },
};
