import { FILE_WRITE_ARG_DOCS } from './file-write-doc.js';
import type { ModuleDoc } from './types.js';

export const copyDoc: ModuleDoc = {
  args: [
    { name: 'content', type: 'string', description: 'The file content, inline (rendered as a template value). Give content or src.' },
    { name: 'src', type: 'path', description: 'A local file sent as is (not rendered), searched like a template source. Give content or src.' },
    ...FILE_WRITE_ARG_DOCS,
  ],
  example: `- name: allow the admin network
  copy:
    content: "ALL: 10.0.0.0/8\\n"
    dest: /etc/hosts.allow
    mode: '0644'
`,
  notes: ['Inline content holding a vault secret\'s value is treated as sensitive.'],
};
