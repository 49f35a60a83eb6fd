// The arguments template and copy share (file-write.ts reads them), as `doc` prints them.
import type { ArgDoc } from './types.js';

export const FILE_WRITE_ARG_DOCS: readonly ArgDoc[] = [
  { name: 'dest', type: 'path', required: true, description: 'Absolute path of the file to write on the host; its directory must exist (or be made by an earlier task).' },
  { name: 'owner', type: 'string', description: 'Owner by user name (never a uid: the host reports names). Unchanged when omitted; a new file is owned by whoever writes it.' },
  { name: 'group', type: 'string', description: 'Group by name. Unchanged when omitted.' },
  { name: 'mode', type: 'string (octal)', description: "Permission bits, quoted ('0644'). Unchanged when omitted; a new file gets 0644 (0600 when sensitive)." },
  { name: 'validate', type: 'string', description: 'Command that must accept the new file before it is installed; %s is the temp file (nginx -t -c %s). Runs in plan too.' },
  { name: 'backup', type: 'boolean', default: 'false', description: 'Keep the old file as DEST.<timestamp>~ (a hard link) before replacing it.' },
  { name: 'sensitive', type: 'boolean', default: 'false', description: 'Never show the content (plan, diff, logs); automatic when a vault secret is used.' },
];
