// Every local file a run reads (inventory, vars, vault, playbooks, roles, templates, copied
// files), with the sha256 of the bytes read: a saved plan lists them, and `apply FILE` refuses
// when any of them changed since. Recorded where files are read, so no reader can be forgotten.
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';

const read = new Map<string, string>();

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Called by each reader of a user's file with exactly the bytes it read. */
export function recordInput(file: string, data: string | Uint8Array): void {
  read.set(resolve(file), sha256Hex(data));
}

/** The files read so far in this process (absolute path → sha256), in the order first read. */
export function inputsRead(): ReadonlyMap<string, string> {
  return new Map(read);
}
