import type { ModuleDoc } from './types.js';

export const aptDoc: ModuleDoc = {
  args: [
    { name: 'name', type: 'string | list of strings', required: true, description: 'Debian package name(s).' },
    { name: 'state', type: 'present | absent | latest', default: 'present', description: 'Installed, removed, or at the candidate version.' },
    { name: 'update_cache', type: 'boolean', description: 'false: never refresh the package cache; otherwise it is refreshed only before installing something.' },
  ],
  example: `- name: web packages
  apt:
    name: [nginx, haproxy]
    state: present
`,
  notes: ['No-op (ok) when already satisfied: the cache is not refreshed then.'],
};
