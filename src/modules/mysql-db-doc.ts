import type { ModuleDoc } from './types.js';

export const mysqlDbDoc: ModuleDoc = {
  args: [
    { name: 'name', type: 'string', required: true, description: 'Database name.' },
    { name: 'state', type: 'present | absent', default: 'present', description: 'Created (or altered) or dropped.' },
    { name: 'encoding', type: 'string', description: 'Default character set (utf8mb4); changed only when it differs.' },
    { name: 'collation', type: 'string', description: 'Default collation (utf8mb4_unicode_ci); changed only when it differs.' },
  ],
  example: `- name: application database
  become: true
  mysql_db:
    name: foobar
    encoding: utf8mb4
    collation: utf8mb4_unicode_ci
`,
  notes: ['Reads the server as root over the unix socket (become: true), inside the play\'s one fact probe.'],
};
