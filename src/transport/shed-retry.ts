// A host's sshd closes a new connection before sending its greeting when it sheds load: more
// connections still logging in than its MaxStartups allows (from this run, or from anyone else
// on a shared bastion), or a per-source penalty. Nothing has run on such a connection, so trying
// again after a short pause is safe, and it is what gets a run through a busy moment. The pauses
// grow and are jittered, so the shed connections of one burst do not come back as one burst.
import type { Client } from 'ssh2';
import { ConnectionError } from '../errors.js';

/** Further attempts after a shed connection, unless the inventory says (connect_retries). */
export const DEFAULT_CONNECT_RETRIES = 3;
/** An attempt the host shed: the caller tries again or gives up with shedMessage(). */
export class ShedConnection extends ConnectionError {
  override name = 'ShedConnection';
}

/** The first pause; each next one doubles it, each drawn from half to one and a half times that. */
const FIRST_PAUSE_MS = 250;

/** ssh2's error for a socket that closed before the server's identification line. */
const LOST_BEFORE_GREETING = 'Connection lost before handshake';

/**
 * True when `err` ended a connect during which the server never sent its greeting: it closed the
 * socket (a clean close, or a reset because our own greeting was still unread), having accepted it.
 */
export function isShedBeforeGreeting(client: Client, err: { message?: string; code?: string }): boolean {
  if (sawGreeting(client)) return false;
  return err.message === LOST_BEFORE_GREETING || err.code === 'ECONNRESET' || err.code === 'EPIPE';
}

/** ssh2 keeps the server's software version from its identification line (lib/client.js). */
function sawGreeting(client: Client): boolean {
  return (client as unknown as { _remoteVer?: string })._remoteVer !== undefined;
}

/** The pause before retry number `retry` (1 for the first). */
export function retryPauseMs(retry: number, random: () => number = Math.random): number {
  return Math.round(FIRST_PAUSE_MS * 2 ** (retry - 1) * (0.5 + random()));
}

/** The last attempt's error, as the operator reads it: what happened, how often, what to change. */
export function shedMessage(where: string, attempts: number): string {
  const how = attempts > 1 ? ` on all ${attempts} attempts` : '';
  // Short enough for the console's cap on a host's message: the advice must not be cut.
  return (
    `${where}: sshd closed the connection before its SSH greeting${how}: it sheds logins past its MaxStartups ` +
    `(from any client) or refuses this address. Lower forks or jump_channels, raise MaxStartups, or raise connect_retries.`
  );
}
