// reboot: restart the host and go on with the play once it is back. The executor recognises it by
// name (src/run/reboot-host.ts does the work: it needs the connection itself); as a module it
// validates, documents, and plans "will reboot".
import { ModuleArgs } from './args.js';
import { docArgNames, type ModuleDefinition, type ModuleDoc } from './types.js';

export const REBOOT = 'reboot';

/** `systemctl is-system-running` says "degraded" with exit 1 when a unit failed: the host is up. */
export const DEFAULT_TEST_COMMAND = 'systemctl is-system-running';

export interface RebootArgs {
  /** Seconds from asking for the reboot until SSH answers with a new boot id and the test passes. */
  rebootTimeout: number;
  /** Shell text that must succeed once the host is back. */
  testCommand: string;
  /** Seconds the host waits before it reboots (the command returns at once). */
  preRebootDelay: number;
  /** Seconds to wait once SSH is back, before the test command. */
  postRebootDelay: number;
  /** Says why, in the host's journal (`shutdown` message). */
  msg: string;
}

const doc: ModuleDoc = {
  args: [
    { name: 'reboot_timeout', type: 'integer (seconds)', default: '600', description: 'How long the host may take to come back: SSH answering with a new boot id and the test command passing.' },
    { name: 'test_command', type: 'string', default: DEFAULT_TEST_COMMAND, description: 'Shell command that must succeed once the host is back (the default also accepts "degraded").' },
    { name: 'pre_reboot_delay', type: 'integer (seconds)', default: '0', description: 'Seconds the host waits before rebooting.' },
    { name: 'post_reboot_delay', type: 'integer (seconds)', default: '0', description: 'Seconds to wait after SSH is back, before the test command.' },
    { name: 'msg', type: 'string', default: 'Reboot initiated by foobar-provision', description: 'Written to the host\'s journal before it reboots.' },
  ],
  example: '- name: reboot into the new kernel\n  reboot:\n    reboot_timeout: 300\n',
  notes: [
    'Always changes: plan reports "will reboot". The play continues on the host once it is back, over a new connection (through the same jump hosts); the run lock is taken again.',
    'Needs root (become: true or a root login).',
  ],
};

export const rebootModule: ModuleDefinition<RebootArgs> = {
  name: REBOOT,
  summary: 'Reboot the host, wait until it is back (new boot id, SSH, test command), and go on.',
  doc,
  validate(raw, where) {
    const args = ModuleArgs.read(REBOOT, raw, where, docArgNames(doc));
    const seconds = (key: string, fallback: number, min: number): number => {
      const value = args.value(key);
      if (value === undefined) return fallback;
      if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > 86_400) {
        throw args.error(key, `"${key}" must be a whole number of seconds from ${min} to 86400`);
      }
      return value;
    };
    const testCommand = args.string('test_command') ?? DEFAULT_TEST_COMMAND;
    if (testCommand.trim() === '') throw args.error('test_command', '"test_command" is empty', `leave it out for the default (${DEFAULT_TEST_COMMAND})`);
    const msg = args.string('msg') ?? 'Reboot initiated by foobar-provision';
    return { rebootTimeout: seconds('reboot_timeout', 600, 1), testCommand, preRebootDelay: seconds('pre_reboot_delay', 0, 0), postRebootDelay: seconds('post_reboot_delay', 0, 0), msg };
  },
  resolve: (args) => args,
  queries: () => [],
  plan: (args, _facts, ctx) => ({
    status: 'changed',
    summary: `will reboot (wait up to ${args.rebootTimeout} s for it to come back)`,
    // The executor runs these itself (reboot-host.ts); listed so plan and history see a change.
    steps: [{ command: 'reboot', become: ctx.become, description: 'reboot the host' }],
  }),
};
