// What the cert module reads on the host, inside the play's one fact probe: the certificate's PEM
// and the public half of the key (derived on the host: the key itself never leaves it). File
// facts of both paths (mode, owner, group) come from the file probe beside it.
import type { CommandOutput, FactQuery } from '../facts/types.js';
import { shellQuote } from '../shell/quote.js';

/** A certificate is a few kB; anything far larger is not ours to read. */
const MAX_CERT_BYTES = 65536;

export function certQueryId(cert: string, key: string): string {
  return `cert ${cert} ${key}`;
}

/** Prints "--cert", the certificate, "--key", then the key's public PEM, "absent", or why not. */
export function certProbeCommand(cert: string, key: string): string {
  return [
    `c=${shellQuote(cert)}; k=${shellQuote(key)}`,
    `echo --cert; [ -f "$c" ] && head -c ${MAX_CERT_BYTES} -- "$c"`,
    'printf "\\n--key\\n"',
    'if [ ! -e "$k" ]; then echo absent',
    'elif ! command -v openssl >/dev/null 2>&1; then echo no-openssl',
    'else openssl pkey -in "$k" -pubout 2>&1 || echo unreadable; fi',
  ].join('\n');
}

export function certQueries(cert: string, key: string): FactQuery[] {
  return [{ kind: 'output', id: certQueryId(cert, key), command: certProbeCommand(cert, key) }];
}

export type KeyState = { kind: 'absent' } | { kind: 'public'; pem: string } | { kind: 'no-openssl' } | { kind: 'unreadable'; detail: string };

export interface CertProbe {
  /** The certificate file's text, when it exists. */
  certPem?: string;
  key: KeyState;
}

/** Reads the probe's output back; undefined when it is not the probe's. */
export function parseCertProbe(output: CommandOutput | undefined): CertProbe | undefined {
  if (!output) return undefined;
  const lines = output.output.split('\n');
  const certAt = lines.indexOf('--cert');
  const keyAt = lines.lastIndexOf('--key');
  if (certAt < 0 || keyAt < certAt) return undefined;
  const certText = lines.slice(certAt + 1, keyAt).join('\n').trim();
  const keyText = lines.slice(keyAt + 1).join('\n').trim();
  const probe: CertProbe = { key: keyState(keyText) };
  if (certText !== '') probe.certPem = `${certText}\n`;
  return probe;
}

function keyState(text: string): KeyState {
  if (text === 'absent') return { kind: 'absent' };
  if (text === 'no-openssl') return { kind: 'no-openssl' };
  const pem = /-----BEGIN PUBLIC KEY-----[\s\S]*?-----END PUBLIC KEY-----/.exec(text);
  if (pem) return { kind: 'public', pem: `${pem[0]}\n` };
  return { kind: 'unreadable', detail: text.replace(/\n?unreadable$/, '').split('\n')[0]?.slice(0, 200) ?? '' };
}
