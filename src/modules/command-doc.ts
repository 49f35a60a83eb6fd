import type { ModuleDoc } from './types.js';

export const commandDoc: ModuleDoc = {
  freeForm: 'The shell command itself (command: systemctl daemon-reload), the same as cmd.',
  args: [
    { name: 'cmd', type: 'string', description: "Shell text run by the host's sh. Give cmd, argv or the free form." },
    { name: 'argv', type: 'list of strings', description: 'The command as a list, each word quoted for the shell.' },
    { name: 'chdir', type: 'path', description: 'Directory to run in.' },
    { name: 'creates', type: 'path', description: 'Skip (ok) when this path exists.' },
    { name: 'removes', type: 'path', description: 'Skip (ok) when this path does not exist.' },
    { name: 'unless', type: 'string', description: 'Shell command: skip (ok) when it exits 0.' },
    { name: 'changed_when', type: 'expression | boolean', description: 'Decides "changed" from rc, stdout, stderr; false makes the command read-only (it runs in plan too).' },
    { name: 'stdin', type: 'string', description: "Text given on the command's standard input (run only once all of it arrived)." },
  ],
  example: `- name: load the schema once
  command:
    cmd: mysql < /srv/schema.sql
    creates: /var/lib/mysql/app
`,
  notes: ['A non-zero exit fails the task.', 'Without a guard the command runs on every apply and reports changed.'],
};
