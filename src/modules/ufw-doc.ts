import type { ModuleDoc } from './types.js';

export const ufwDoc: ModuleDoc = {
  args: [
    { name: 'state', type: 'enabled | disabled', default: 'enabled', description: 'ufw on or off.' },
    { name: 'default_incoming', type: 'deny | reject | allow', default: 'deny', description: 'Policy for incoming traffic no rule matches.' },
    { name: 'default_outgoing', type: 'deny | reject | allow', default: 'allow', description: 'Policy for outgoing traffic no rule matches.' },
    { name: 'rules', type: 'list of maps', description: 'Each { port, proto, from, to, interface, action, comment }: port a number or range, proto tcp | udp | any, action allow | deny | reject | limit.' },
    { name: 'purge', type: 'boolean', default: 'true', description: 'Remove rules that are not declared.' },
  ],
  example: `- name: firewall
  ufw:
    state: enabled
    default_incoming: deny
    rules:
      - { port: 22, proto: tcp, comment: ssh }
      - { port: 443, proto: tcp }
`,
  notes: [
    'Never locks the operator out: a firewall that would not let the run\'s own SSH connection in fails the task, in plan too.',
    'Route rules are left alone.',
  ],
};
