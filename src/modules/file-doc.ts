import type { ModuleDoc } from './types.js';

export const fileDoc: ModuleDoc = {
  args: [
    { name: 'path', type: 'path', required: true, description: 'Absolute path on the host.' },
    { name: 'state', type: 'file | directory | absent | link | touch', default: 'file', description: 'file: must exist; directory: made with its parents; absent: removed (recursively); link: a symlink to src; touch: created empty when missing.' },
    { name: 'src', type: 'string', description: 'Target of the link (state: link only).' },
    { name: 'mode', type: 'string (octal)', description: "Permission bits, quoted ('0755'). Unchanged when omitted." },
    { name: 'owner', type: 'string', description: 'Owner by user name. Unchanged when omitted.' },
    { name: 'group', type: 'string', description: 'Group by name. Unchanged when omitted.' },
    { name: 'recurse', type: 'boolean', default: 'false', description: 'Apply owner and mode to everything under the directory (state: directory only).' },
  ],
  example: `- name: application folder
  file:
    path: /srv/app
    state: directory
    owner: root
    group: root
    mode: '0755'
`,
  notes: ['Relinking is atomic: the new link is made under a temp name and renamed over the old one.'],
};
