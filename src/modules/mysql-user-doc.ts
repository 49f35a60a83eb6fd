import type { ModuleDoc } from './types.js';

export const mysqlUserDoc: ModuleDoc = {
  args: [
    { name: 'name', type: 'string', required: true, description: 'Account user name.' },
    { name: 'host', type: 'string', default: '%', description: 'Account host part.' },
    { name: 'password', type: 'string', sensitive: true, description: 'Password, compared with the stored mysql_native_password hash; sent only as its hash.' },
    { name: 'priv', type: 'string | list of strings', description: '"db.table:PRIV,PRIV" entries (joined by "/" or as a list); exact: others are revoked. Grants are left alone when omitted.' },
    { name: 'state', type: 'present | absent', default: 'present', description: 'Created/updated or dropped.' },
  ],
  example: `- name: application account
  become: true
  mysql_user:
    name: foobar_app
    host: "%"
    password: "<%= db_app_password %>"
    priv: "foobar.*:ALL"
`,
  notes: ['Plans, diffs and errors never show the password.'],
};
