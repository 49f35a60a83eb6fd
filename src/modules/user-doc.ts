// The user module's arguments, as `doc user` prints them and validation reads their names.
import type { ModuleDoc } from './types.js';

export const USER_DOC: ModuleDoc = {
  args: [
    { name: 'name', type: 'string', required: true, description: 'The user name (letters, digits, "_", ".", "-"; 32 characters at most; no leading "-").' },
    { name: 'state', type: 'present | absent', default: 'present', description: 'Whether the account exists.' },
    { name: 'uid', type: 'integer', description: 'The user id (0 to 4294967294). Files the user owns keep the old id when it changes.' },
    { name: 'group', type: 'string', description: 'The primary group, by name or gid; it must exist. Without it, a new user gets a group of its own name.' },
    { name: 'groups', type: 'list of strings', description: 'Supplementary groups (a list, or one comma-separated string); each must exist. An empty list removes the user from every supplementary group (unless append).' },
    { name: 'append', type: 'boolean', default: 'false', description: 'true: add the listed groups and keep the others; false: the listed groups are exactly the user\'s supplementary groups.' },
    { name: 'shell', type: 'path', description: 'The login shell, e.g. /bin/bash.' },
    { name: 'home', type: 'path', description: 'The home directory (absolute). Default for a new user: /home/NAME. Changing it does not move the old directory.' },
    { name: 'create_home', type: 'boolean', default: 'true', description: 'Create the home directory (from /etc/skel) when the user is created.' },
    { name: 'system', type: 'boolean', default: 'false', description: 'Create a system account (uid from the system range). Only used when the user is created.' },
    { name: 'comment', type: 'string', description: 'The GECOS field (full name); no ":" or control characters.' },
    { name: 'password', type: 'string', sensitive: true, description: 'A crypt(3) hash (mkpasswd -m yescrypt, openssl passwd -6), never a plain password. Compared on the host by digest: plan says only "password changes"; the hash is never shown.' },
    { name: 'update_password', type: 'always | on_create', default: 'always', description: 'on_create: set the password only when the user is created, leave a changed one alone.' },
    { name: 'password_lock', type: 'boolean', description: 'true locks the password (usermod -L, a "!" before the hash), false unlocks it.' },
    { name: 'lock', type: 'boolean', description: 'Another name for password_lock.' },
    { name: 'remove', type: 'boolean', default: 'false', description: 'With state: absent, also remove the home directory and mail spool (userdel -r).' },
  ],
  example: [
    '- name: operator account',
    '  user:',
    '    name: alice',
    '    uid: 1500',
    '    shell: /bin/bash',
    '    groups: [adm, sudo]',
    '    comment: Alice Example',
    '    password: "<%= alice_password_hash %>"',
  ].join('\n'),
  notes: [
    'Facts come from getent passwd, getent group and getent shadow in the play\'s one probe; reading the password state needs root, so give the task become: true when it sets password or password_lock.',
    'The host compares the sha256 of its hash with that of the wanted hash and answers yes or no: neither hash is printed, in plan, diff, --json or the run history. The hash reaches the host on stdin (chpasswd -e), never on a command line.',
    'Debian\'s useradd makes a group of the user\'s name when no group is given (USERGROUPS_ENAB), and userdel removes it again when it is empty.',
  ],
};
