// The host-side download: curl into a temp file beside the destination, the sha256 checked, mode
// and owner set, then renamed over the destination. A failed download or a checksum mismatch
// removes the temp file and leaves the old file as it was.
import { shellQuote } from '../shell/quote.js';
import { ownerSpec, type WantedMeta } from './file-meta.js';
import { DEFAULT_NEW_FILE_MODE, parentDir } from './file-write-script.js';

export interface FetchOptions extends WantedMeta {
  url: string;
  dest: string;
  /** Expected sha256 (hex); absent only for https URLs. */
  sha256?: string;
  /** Seconds for the whole transfer. */
  timeout: number;
}

/** Redirects followed: enough for a release host's CDN hop, not a loop. */
export const MAX_REDIRECTS = 5;

/**
 * Shell lines that leave the downloaded, verified bytes in "$tmp" (removed on exit unless the caller
 * moves it). Redirects: with a checksum the bytes are proven whatever served them, so http and
 * https redirects are followed; without one (https only), only https redirects, so a redirect can
 * never downgrade the transfer to plain http.
 */
export function downloadLines(opts: { url: string; tmpDir: string; tmpName: string; sha256?: string; timeout: number; what: string }): string[] {
  const redirects = opts.sha256 === undefined ? '=https' : '=http,https';
  return [
    `command -v curl >/dev/null 2>&1 || { echo ${shellQuote(`${opts.what}: curl is not installed on the host (apt: { name: curl } first)`)} >&2; exit 1; }`,
    `tmp=$(mktemp ${shellQuote(`${opts.tmpDir}/.${opts.tmpName}.fbp-`)}$$.XXXXXX) || exit 1`,
    `trap 'rm -f -- "$tmp"' EXIT`,
    `trap 'exit 1' HUP INT TERM PIPE`,
    // -f: an HTTP error is a failure, not a saved error page; --proto: never another scheme.
    `if ! err=$(curl -fsS -L --max-redirs ${MAX_REDIRECTS} --proto =http,https --proto-redir ${redirects} --max-time ${opts.timeout} -o "$tmp" --url ${shellQuote(opts.url)} 2>&1); then`,
    `  printf '%s\\n' "$err" ${shellQuote(`${opts.what}: download of ${opts.url} failed; nothing changed`)} >&2`,
    '  exit 1',
    'fi',
    'sum=$(sha256sum <"$tmp") || exit 1',
    'sum=${sum%% *}',
    ...(opts.sha256 === undefined
      ? []
      : [
          `if [ "$sum" != ${opts.sha256} ]; then`,
          `  printf '%s\\n' ${shellQuote(`${opts.what}: checksum mismatch: ${opts.url} gave sha256 `)}"$sum"${shellQuote(`, expected ${opts.sha256}; nothing changed`)} >&2`,
          '  exit 1',
          'fi',
        ]),
  ];
}

/** The whole get_url step: download, verify, mode/owner, atomic rename. */
export function fetchFileScript(opts: FetchOptions): string {
  const name = opts.dest.slice(opts.dest.lastIndexOf('/') + 1);
  const lines = [
    `dest=${shellQuote(opts.dest)}`,
    ...downloadLines({ url: opts.url, tmpDir: parentDir(opts.dest), tmpName: name, ...(opts.sha256 === undefined ? {} : { sha256: opts.sha256 }), timeout: opts.timeout, what: opts.dest }),
    opts.mode !== undefined
      ? `chmod ${opts.mode} -- "$tmp" || exit 1`
      : `if [ -e "$dest" ]; then chmod --reference="$dest" -- "$tmp"; else chmod ${DEFAULT_NEW_FILE_MODE} -- "$tmp"; fi || exit 1`,
    `if [ -e "$dest" ]; then chown --reference="$dest" -- "$tmp" 2>/dev/null || :; fi`,
  ];
  const owners = ownerSpec(opts);
  if (owners !== undefined) lines.push(`chown ${shellQuote(owners)} -- "$tmp" || exit 1`);
  lines.push(`mv -f -- "$tmp" "$dest" || exit 1`, 'trap - EXIT', `printf 'sha256 %s\\n' "$sum"`);
  return lines.join('\n');
}
