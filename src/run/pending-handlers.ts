// Handlers notified but not yet run are written down on the host, so that a run which fails
// after the notifying change still runs them next time (Ansible forgets them: ansible#10498).
import { addLinesCommand, removeLinesCommand } from './record-file.js';

/** Root's record, used when the play can become root or connects as root. */
export const ROOT_PENDING_FILE = '/var/lib/foobar-provision/pending-handlers';
/** Otherwise kept in the login user's home (commands start there). */
export const USER_PENDING_FILE = '.foobar-provision/pending-handlers';

export function pendingLine(play: string, handler: string): string {
  return `${play.replace(/[\t\n]/g, ' ')}\t${handler.replace(/[\t\n]/g, ' ')}`;
}

/** Handlers pending for `play`, from the lines of the pending files. */
export function pendingFor(play: string, lines: string[]): string[] {
  const prefix = `${pendingLine(play, '')}`;
  return [...new Set(lines.filter((l) => l.startsWith(prefix)).map((l) => l.slice(prefix.length)))];
}

export function recordPendingCommand(file: string, lines: string[]): string {
  return addLinesCommand(file, lines);
}

export function clearPendingCommand(file: string, lines: string[]): string {
  return removeLinesCommand(file, lines);
}
