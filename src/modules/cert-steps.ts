// The commands the cert module sends. Issuing is two round trips: the host makes its key when it
// has none (umask 077, temp file beside it, renamed whole) and prints a CSR; the controller signs
// it; the second exec writes the certificate atomically (size and sha256 checked, then renamed).
import { shellQuote } from '../shell/quote.js';
import { parentDir, writeFileStep } from './file-write-script.js';
import { ownerSpec, type WantedMeta } from './file-meta.js';

/** Makes the key if missing, sets its owner and mode, prints a CSR (stdout: the CSR only). */
export function keyAndCsrScript(key: string, keyMeta: WantedMeta, subject: string): string {
  const owners = ownerSpec(keyMeta);
  const meta = [
    ...(owners !== undefined ? [`chown ${shellQuote(owners)} -- "$1" || exit 1`] : []),
    ...(keyMeta.mode !== undefined ? [`chmod ${keyMeta.mode} -- "$1" || exit 1`] : []),
  ];
  return [
    `k=${shellQuote(key)}`,
    'umask 077',
    // Owner and mode go on before the key is in place: it is never readable by more than asked.
    `fbp_meta() { ${meta.length > 0 ? meta.join('; ') : ':'}; }`,
    'if [ ! -e "$k" ]; then',
    `  t=$(mktemp ${shellQuote(`${parentDir(key)}/.`)}"\${k##*/}.fbp-new.XXXXXX") || exit 1`,
    `  trap 'rm -f -- "$t"' EXIT`,
    '  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$t" >&2 || exit 1',
    '  fbp_meta "$t"',
    '  mv -f -- "$t" "$k" || exit 1',
    '  trap - EXIT',
    'else',
    '  fbp_meta "$k"',
    'fi',
    `openssl req -new -key "$k" -subj ${shellQuote(subject)} -outform PEM`,
  ].join('\n');
}

/** The certificate's write: whole file or nothing, 0644. */
export function certWriteStep(cert: string, owner: string | undefined, pem: string): { command: string; stdin: Buffer; checksInput: true } {
  return writeFileStep({ dest: cert, mode: '0644', ...(owner !== undefined ? { owner, group: owner === 'root' ? 'root' : owner } : {}), backup: false }, pem);
}

/** The CSR in the key step's output. */
export function csrOf(stdout: string): string | undefined {
  const match = /-----BEGIN CERTIFICATE REQUEST-----[\s\S]*?-----END CERTIFICATE REQUEST-----/.exec(stdout);
  return match ? `${match[0]}\n` : undefined;
}
