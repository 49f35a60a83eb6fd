// The one command that puts a key file in place. In the user's own ~/.ssh the user can rename and
// link entries at will, so root must not create, chmod or chown anything there by path (a link
// swapped in for the temp file would hand /etc/shadow to the user): the directory and the file are
// made and written by the user itself (runuser), and root only corrects a wrong owner, with
// `chown -h`, which never follows a link. A key file at a path of the operator's choosing (a
// directory the user cannot write) is written by root, atomically, as template writes files.
import { shellQuote } from '../shell/quote.js';
import { writeFileStep } from './file-write-script.js';

export interface KeyFileTarget {
  path: string;
  dir: string;
  owner: string;
  group?: string;
}

export interface MetaFix {
  owner: boolean;
  mode: boolean;
}

export interface KeyFileWork {
  target: KeyFileTarget;
  /** The file is in the user's home: act as the user. */
  asUser: boolean;
  dir?: 'create' | MetaFix;
  /** New content, or metadata fixes of the existing file. */
  file?: { content: string } | MetaFix;
  dirMode: string;
  fileMode: string;
}

export interface KeyFileCommand {
  command: string;
  stdin?: Buffer;
  checksInput?: true;
}

export function keyFileCommand(work: KeyFileWork): KeyFileCommand {
  const { target } = work;
  const owners = shellQuote(`${target.owner}${target.group === undefined ? '' : `:${target.group}`}`);
  const dir = shellQuote(target.dir);
  const path = shellQuote(target.path);
  const asRoot: string[] = [];
  const asOwner: string[] = [];
  // As the user, `chown` to its own primary group is a no-op; as root, files get the user's name.
  const lines = work.asUser ? asOwner : asRoot;

  if (work.dir === 'create') {
    if (work.asUser) asOwner.push(`mkdir -m ${work.dirMode} -- ${dir} || exit 1`);
    else asRoot.push(`install -d -m ${work.dirMode} -o ${shellQuote(target.owner)}${target.group === undefined ? '' : ` -g ${shellQuote(target.group)}`} -- ${dir} || exit 1`);
  } else if (work.dir) {
    if (work.dir.owner) asRoot.push(`chown -h ${owners} -- ${dir} || exit 1`);
    if (work.dir.mode) lines.push(`chmod ${work.dirMode} -- ${dir} || exit 1`);
  }

  let upload: { stdin: Buffer; checksInput: true } | undefined;
  if (work.file && 'content' in work.file) {
    const meta = work.asUser ? {} : { owner: target.owner, ...(target.group === undefined ? {} : { group: target.group }) };
    const step = writeFileStep({ dest: target.path, backup: false, mode: work.fileMode, ...meta }, work.file.content);
    lines.push(step.command);
    upload = { stdin: step.stdin, checksInput: step.checksInput };
  } else if (work.file) {
    if (work.file.owner) asRoot.push(`chown -h ${owners} -- ${path} || exit 1`);
    if (work.file.mode) lines.push(`chmod ${work.fileMode} -- ${path} || exit 1`);
  }

  const parts = [...asRoot];
  if (asOwner.length > 0) {
    // Through sudo the step runs as root: become the user for its own files. Logged in as the
    // user (no become), it already is.
    const script = shellQuote(asOwner.join('\n'));
    parts.push(`if [ "$(id -u)" = 0 ]; then runuser -u ${shellQuote(target.owner)} -- sh -c ${script}; else sh -c ${script}; fi`);
  }
  return { command: parts.join('\n'), ...(upload ?? {}) };
}
