// What `doc service` (and its alias `doc systemd`) prints; validation reads the names from here.
import type { ModuleDoc } from './types.js';

export const SERVICE_DOC: ModuleDoc = {
  args: [
    { name: 'name', type: 'string', required: true, description: 'The unit, e.g. nginx or nginx.service (no spaces, not starting with "-").' },
    { name: 'state', type: 'started | stopped | restarted | reloaded', description: 'started and stopped act only when needed; restarted and reloaded always act.' },
    { name: 'enabled', type: 'boolean', description: 'Start the unit at boot (systemctl enable) or not (disable).' },
    { name: 'masked', type: 'boolean', description: 'true: systemctl mask (the unit cannot be started, not even by hand; stopped first when state: stopped); false: unmask.' },
    { name: 'daemon_reload', type: 'boolean', default: 'false', description: 'Run systemctl daemon-reload before acting. A unit file changed earlier in the run already causes one (one per host per run).' },
  ],
  example: `- name: keep the monitoring agent running
  service:
    name: prometheus-node-exporter
    state: started
    enabled: true
`,
  notes: [
    'Give at least one of state, enabled, masked or daemon_reload.',
    'masked: true cannot be combined with state started/restarted/reloaded or enabled: true; starting a masked unit fails with a message naming masked: false.',
    '`systemd` is an alias of this module with the same arguments.',
  ],
};
