import { FILE_WRITE_ARG_DOCS } from './file-write-doc.js';
import type { ModuleDoc } from './types.js';

export const templateDoc: ModuleDoc = {
  args: [
    { name: 'src', type: 'path', required: true, description: 'The EJS template on the controller, searched in templates/ROLE/, templates/, beside the playbook and the project root.' },
    ...FILE_WRITE_ARG_DOCS,
  ],
  example: `- name: nginx main config
  template:
    src: nginx.conf.ejs
    dest: /etc/nginx/nginx.conf
    owner: root
    group: root
    mode: '0644'
    validate: nginx -t -c %s
    backup: true
`,
  notes: [
    'Rendered on the controller with strict variables; written atomically (temp file beside dest, size and sha256 checked, validated, renamed).',
    'The plan shows a unified diff; a template that read a secret is shown as (sensitive content changed).',
  ],
};
