// /etc/hosts, pure: the host's own name must resolve (sudo warns otherwise). When no line names it,
// Debian's convention is used: the 127.0.1.1 line names the host (replaced if it names another).
import type { EditResult } from './file-edit.js';
import { insertLines, joinLines, lineLabel, replaceLines, splitLines } from './text-lines.js';

export const OWN_ADDRESS = '127.0.1.1';

/** The address and names of a hosts line, without its comment. */
function fieldsOf(text: string): string[] {
  return text.replace(/#.*/, '').trim().split(/\s+/).filter((field) => field !== '');
}

export function ensureHostsEntry(current: string | null, name: string): EditResult {
  const file = splitLines(current ?? '');
  const wanted = name.toLowerCase();
  const named = file.lines.findIndex((line) => fieldsOf(line.text).slice(1).some((field) => field.toLowerCase() === wanted));
  if (named !== -1) return { kind: 'same', reason: `/etc/hosts resolves ${name} (${lineLabel(named)})` };
  const short = name.split('.')[0] ?? name;
  const entry = short !== name ? `${OWN_ADDRESS}\t${name}\t${short}` : `${OWN_ADDRESS}\t${name}`;
  const own = lastIndexWhere(file.lines.map((line) => fieldsOf(line.text)[0] === OWN_ADDRESS));
  if (own !== -1) return { kind: 'edit', content: joinLines(replaceLines(file, own, own, [entry])), what: `${OWN_ADDRESS} names ${name} (${lineLabel(own)})` };
  const loopback = lastIndexWhere(file.lines.map((line) => fieldsOf(line.text)[0] === '127.0.0.1'));
  return { kind: 'edit', content: joinLines(insertLines(file, loopback + 1, [entry])), what: `add ${OWN_ADDRESS} ${name} (${lineLabel(loopback + 1)})` };
}

function lastIndexWhere(flags: boolean[]): number {
  return flags.lastIndexOf(true);
}
