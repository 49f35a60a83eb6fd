import type { ModuleDoc } from './types.js';

export const serviceDoc: ModuleDoc = {
  args: [
    { name: 'name', type: 'string', required: true, description: 'The systemd unit (nginx or nginx.service).' },
    { name: 'state', type: 'started | stopped | restarted | reloaded', description: 'started/stopped act only when needed; restarted and reloaded always act.' },
    { name: 'enabled', type: 'boolean', description: 'Start at boot (true) or not (false). Unchanged when omitted.' },
    { name: 'daemon_reload', type: 'boolean', default: 'false', description: 'Run systemctl daemon-reload first (done anyway when systemd says a unit file changed).' },
  ],
  example: `- name: nginx running
  service:
    name: nginx
    state: started
    enabled: true
`,
  notes: ['systemd only. Give at least one of state, enabled, daemon_reload.', 'A unit that does not exist fails with a clear reason.'],
};
