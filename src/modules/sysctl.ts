// sysctl: a kernel setting kept in a sysctl.d file (so it survives a reboot) and set live. Both the
// file and the live value (/proc/sys) are read in the probe, so a converged host costs nothing.
import type { CommandOutput } from '../facts/types.js';
import { shellQuote } from '../shell/quote.js';
import { isUnrendered, ModuleArgs } from './args.js';
import { fileEditQueries, planFileEdit } from './file-edit.js';
import { editSysctlConf, normalValue, SYSCTL_NAME } from './sysctl-conf.js';
import { docArgNames, type ModuleDefinition, type ModuleDoc, type Step, type TaskPlan } from './types.js';

export interface SysctlArgs {
  name: string;
  value?: string;
  state: 'present' | 'absent';
  sysctlFile: string;
  reload: boolean;
}

export const DEFAULT_SYSCTL_FILE = '/etc/sysctl.d/99-foobar.conf';

export const sysctlDoc: ModuleDoc = {
  args: [
    { name: 'name', type: 'string', required: true, description: 'The setting in dotted form, e.g. net.ipv4.ip_forward (no "/" nor "..").' },
    { name: 'value', type: 'string', description: 'The value (required for state: present), as the kernel prints it: "1", "4096 87380 6291456". Whitespace runs compare as one space.' },
    { name: 'state', type: 'present | absent', default: 'present', description: 'absent removes the setting from sysctl_file; the live value is left as it is (it returns to the default at the next boot).' },
    { name: 'sysctl_file', type: 'path', default: DEFAULT_SYSCTL_FILE, description: 'The file under /etc/sysctl.d that keeps the setting across reboots; created when missing.' },
    { name: 'reload', type: 'boolean', default: 'true', description: 'Also set the live value (sysctl -w) when it differs. false: only the file is kept.' },
  ],
  example: [
    '- name: route between interfaces',
    '  sysctl:',
    '    name: net.ipv4.ip_forward',
    "    value: '1'",
  ].join('\n'),
  notes: [
    'The live value is read from /proc/sys in the probe and set with sysctl -w before the file is written, so a value the kernel refuses never reaches the file.',
    'In the lab (systemd-nspawn containers) only net.* settings are writable; others fail with "permission denied".',
    'A name the host does not have fails the task, naming it.',
  ],
};

/** The probe's output query id for a setting's live value. */
export const liveQueryId = (name: string): string => `sysctl ${name}`;

export const sysctlModule: ModuleDefinition<SysctlArgs> = {
  name: 'sysctl',
  exactAssume: true,
  summary: 'Set a kernel parameter in a sysctl.d file and live.',
  doc: sysctlDoc,
  validate(raw, where) {
    const args = ModuleArgs.read('sysctl', raw, where, docArgNames(sysctlDoc));
    const name = args.requiredString('name');
    if (!isUnrendered(name) && !SYSCTL_NAME.test(name)) {
      const hint = name.includes('/') ? `write it with dots: ${name.replace(/^\/?(proc\/sys\/)?/, '').replaceAll('/', '.')}` : 'dotted words such as net.ipv4.ip_forward';
      throw args.error('name', `"${name}" is not a sysctl name`, hint);
    }
    const result: SysctlArgs = {
      name,
      state: args.oneOf('state', ['present', 'absent'] as const) ?? 'present',
      sysctlFile: args.path('sysctl_file') ?? DEFAULT_SYSCTL_FILE,
      reload: args.boolean('reload') ?? true,
    };
    const value = args.string('value');
    if (value !== undefined && !isUnrendered(value)) {
      if (/[\r\n\0]/.test(value)) throw args.error('value', '"value" must be one line');
      if (value.trim() === '') throw args.error('value', '"value" must not be empty');
    }
    if (value !== undefined) result.value = value;
    if (result.state === 'present' && value === undefined) throw args.error(undefined, 'missing required argument "value" (state: present)', "e.g. value: '1'");
    return result;
  },
  resolve: (args) => args,
  queries(args) {
    const live = args.state === 'present' && args.reload ? [{ kind: 'output' as const, id: liveQueryId(args.name), command: `cat ${shellQuote(`/proc/sys/${args.name.replaceAll('.', '/')}`)}` }] : [];
    return [...fileEditQueries(args.sysctlFile), ...live];
  },
  plan(args, facts, ctx) {
    const target = { path: args.sysctlFile, create: true, backup: false, sensitive: false };
    const file = planFileEdit(target, facts, ctx, (current) => editSysctlConf(current, args.name, args.value ?? '', args.state));
    if (file.status === 'failed') return file;
    if (args.state === 'absent' || !args.reload) return file;
    const value = normalValue(args.value ?? '');
    const live = facts.outputs.get(liveQueryId(args.name));
    if (!live) return { status: 'failed', reason: `no facts gathered for ${args.name}` };
    if (live.code !== 0) return { status: 'failed', reason: `${args.name}: no such setting on this host (${firstLine(live)})` };
    const current = normalValue(live.output);
    if (current === value) {
      return file.status === 'ok' ? { status: 'ok', reason: `${file.reason}; live value is ${value}` } : file;
    }
    // Live first: a value the kernel refuses fails the task before the file keeps it for the next boot.
    const setLive: Step = { command: `sysctl -q -w ${shellQuote(`${args.name}=${args.value?.trim() ?? ''}`)}`, become: ctx.become, description: `set ${args.name} live` };
    const liveWords = `live ${args.name} ${current} -> ${value}`;
    const assumeLive = (cache: typeof facts): void => {
      cache.outputs.set(liveQueryId(args.name), { code: 0, output: value });
    };
    if (file.status === 'ok') {
      return { status: 'changed', summary: `${liveWords} (${file.reason})`, steps: [setLive], assume: assumeLive };
    }
    const plan: Extract<TaskPlan, { status: 'changed' }> = {
      ...file,
      summary: `${file.summary}; ${liveWords}`,
      steps: [setLive, ...file.steps],
      assume: (cache) => {
        file.assume?.(cache);
        assumeLive(cache);
      },
    };
    return plan;
  },
};

function firstLine(output: CommandOutput): string {
  return output.output.split('\n')[0]?.trim() || `exit ${output.code}`;
}
