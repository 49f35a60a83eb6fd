// shell: `command` for shell text, run by /bin/sh -c on the host whatever the login shell is
// (pipes, redirections, globs, && and $VAR work as in sh). `command` runs its `cmd` text through
// the remote shell too, but quotes an `argv` list word by word; `shell` takes text only.
import { shellQuote } from '../shell/quote.js';
import { underName } from './aliases.js';
import { isUnrendered, ModuleArgs } from './args.js';
import { commandModule, type CommandArgs, type ResolvedCommand } from './command.js';
import { docArgNames, type ModuleDefinition, type ModuleDoc } from './types.js';

export const SHELL_DOC: ModuleDoc = {
  freeForm: 'The shell text to run, e.g. `shell: ls /srv | wc -l > /tmp/count`.',
  args: [
    { name: 'cmd', type: 'string', required: true, description: 'Shell text, run as /bin/sh -c TEXT (the free-form string is the same).' },
    { name: 'chdir', type: 'path', description: 'Run in this directory.' },
    { name: 'creates', type: 'path', description: 'Skip when this path exists.' },
    { name: 'removes', type: 'path', description: 'Skip when this path does not exist.' },
    { name: 'unless', type: 'string', description: 'Shell text; skip when it exits 0 (checked in the fact probe).' },
    { name: 'changed_when', type: 'expression or boolean', description: 'Decides "changed" from rc, stdout and stderr; false makes the task read-only (it also runs in plan).' },
    { name: 'stdin', type: 'string', description: 'Text given on standard input; the command starts only once all of it has arrived.' },
  ],
  example: `- name: count the releases
  shell:
    cmd: ls /srv/app/releases | wc -l > /srv/app/release-count
    creates: /srv/app/release-count
`,
  notes: [
    'An alias of command whose text always runs through /bin/sh -c, so its meaning does not depend on the login shell.',
    'There is no argv: for a list of words passed without any shell interpretation, use command with argv.',
    'Values from variables are inserted as text: quote them yourself (or use command with argv).',
  ],
};

export const shellModule: ModuleDefinition<CommandArgs, ResolvedCommand> = {
  ...commandModule,
  name: 'shell',
  summary: 'Run shell text with /bin/sh -c (pipes, redirections), unless creates/removes/unless says it already ran.',
  doc: SHELL_DOC,
  validate(raw, where) {
    if (typeof raw === 'string') raw = { cmd: raw };
    if (raw !== null && typeof raw === 'object' && !Array.isArray(raw) && 'argv' in raw) {
      throw ModuleArgs.read('shell', {}, where, []).error('argv', 'shell runs shell text and takes no "argv"', 'for a list of words run without a shell, use command with argv');
    }
    const own = ModuleArgs.read('shell', raw, where, docArgNames(SHELL_DOC));
    if ((own.string('cmd') ?? '').trim() === '') throw own.error(undefined, 'missing the shell text: give it free form or as "cmd"', 'e.g. shell: "ls /srv | wc -l"');
    const args = underName('shell', 'command', () => commandModule.validate(raw, where));
    // At load time the text may still hold EJS tags: it is wrapped after rendering.
    if (isUnrendered(args.cmd)) return args;
    return { ...args, cmd: `/bin/sh -c ${shellQuote(args.cmd)}` };
  },
};
