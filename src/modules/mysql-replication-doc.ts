import type { ModuleDoc } from './types.js';

export const mysqlReplicationDoc: ModuleDoc = {
  args: [
    { name: 'primary_host', type: 'string', required: true, description: 'Host name or address of the primary.' },
    { name: 'primary_user', type: 'string', required: true, description: 'Replication user on the primary.' },
    { name: 'primary_password', type: 'string', required: true, sensitive: true, description: 'Its password (compared by sha256 on the host; never shown).' },
    { name: 'primary_port', type: 'integer', default: '3306', description: 'Port of the primary.' },
    { name: 'use_gtid', type: 'slave_pos | current_pos', default: 'slave_pos', description: 'GTID mode of CHANGE MASTER.' },
    { name: 'connect_retry', type: 'integer', default: '5', description: 'Seconds between reconnect attempts.' },
    { name: 'wait', type: 'integer', default: '60', description: 'Seconds to wait for both replication threads to run after a (re)start.' },
    { name: 'ssl_ca', type: 'path', description: "CA file on the host: replicate over TLS, the primary's certificate verified." },
  ],
  example: `- name: replicate from db1
  become: true
  mysql_replication:
    primary_host: 10.0.1.41
    primary_user: repl
    primary_password: "<%= db_repl_password %>"
`,
  notes: ['CHANGE MASTER runs only when SHOW SLAVE STATUS differs from the arguments; stopped threads are just started.'],
};
