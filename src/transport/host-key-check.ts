// The host key policy: known → go on; unknown → stop with the fingerprint and the fix, or record it
// when the operator said so; changed or revoked → always stop. Pure, so every branch is unit-tested.

import { HostKeyError } from '../errors.js';
import { fingerprint, keyTypeOfBlob, knownHostsName, lookupHostKey, type KnownHostEntry } from './known-hosts.js';
import { shellQuote } from '../shell/quote.js';
import type { ConnectionSettings } from './types.js';

export type HostKeyDecision = { action: 'accept' } | { action: 'record'; file: string } | { action: 'reject'; error: HostKeyError };

type Settings = Pick<
  ConnectionSettings,
  'hostName' | 'address' | 'port' | 'knownHostsFiles' | 'knownHostsWriteFile' | 'acceptNewHostKeys'
>;

// ssh-keyscan's -t names for the key types known_hosts records.
const KEYSCAN_TYPE: Record<string, string> = {
  'ssh-ed25519': 'ed25519',
  'ssh-rsa': 'rsa',
  'ecdsa-sha2-nistp256': 'ecdsa',
  'ecdsa-sha2-nistp384': 'ecdsa',
  'ecdsa-sha2-nistp521': 'ecdsa',
};

export function decideHostKey(settings: Settings, entries: readonly KnownHostEntry[], key: Buffer): HostKeyDecision {
  const { hostName, address, port } = settings;
  const type = keyTypeOfBlob(key) ?? 'unknown-type';
  const fp = fingerprint(key);
  const who = `${hostName} (${knownHostsName(address, port)})`;
  const result = lookupHostKey(entries, address, port, key);

  switch (result.status) {
    case 'match':
      return { action: 'accept' };
    case 'revoked':
      return {
        action: 'reject',
        error: new HostKeyError(
          hostName,
          `${who} presented ${type} key ${fp}, which is marked @revoked at ${result.entry.file}:${result.entry.line}. ` +
            'Refusing to connect.',
          fp,
          'changed',
        ),
      };
    case 'mismatch': {
      const recorded = result.recorded.map((e) => `  ${e.file}:${e.line}  ${e.keyType} ${fingerprint(e.key)}`).join('\n');
      const first = result.recorded[0]!;
      return {
        action: 'reject',
        error: new HostKeyError(
          hostName,
          `HOST KEY CHANGED for ${who}!\n` +
            `  presented: ${type} ${fp}\n` +
            `  recorded:\n${recorded}\n` +
            'Someone may be intercepting the connection, or the host was reinstalled. Verify the new fingerprint ' +
            'out of band; if it is right, remove the old entry and connect again:\n' +
            `  ssh-keygen -R ${shellQuote(knownHostsName(address, port))} -f ${shellQuote(first.file)}\n` +
            '(--accept-new-host-keys never replaces a changed key.)',
          fp,
          'changed',
        ),
      };
    }
    case 'unknown': {
      const writeFile = settings.knownHostsWriteFile ?? settings.knownHostsFiles[0];
      if (settings.acceptNewHostKeys && writeFile) return { action: 'record', file: writeFile };
      const others = result.otherTypes.length > 0 ? ` (known_hosts holds only ${result.otherTypes.join(', ')} keys for it)` : '';
      const scanType = KEYSCAN_TYPE[type];
      const keyscan =
        `ssh-keyscan${port === 22 ? '' : ` -p ${port}`}${scanType ? ` -t ${scanType}` : ''} ${shellQuote(address)}` +
        (writeFile ? ` >> ${shellQuote(writeFile)}` : '');
      const checked = settings.knownHostsFiles.length > 0 ? settings.knownHostsFiles.join(', ') : '(no known_hosts files)';
      return {
        action: 'reject',
        error: new HostKeyError(
          hostName,
          `unknown host key for ${who}: ${type} ${fp}${others}\n` +
            `  checked: ${checked}\n` +
            'Verify the fingerprint out of band, then either re-run with --accept-new-host-keys to record it, ' +
            `or record it yourself:\n  ${keyscan}`,
          fp,
          'unknown',
        ),
      };
    }
  }
}
