import type { ModuleDoc } from './types.js';

export const flushHandlersDoc: ModuleDoc = {
  args: [],
  example: `- name: restart now, before the next tasks
  flush_handlers:
`,
  notes: ["Like Ansible's meta: flush_handlers; handlers run here do not run again at the end unless notified again."],
};
