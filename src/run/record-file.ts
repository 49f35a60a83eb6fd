// Small records the tool keeps on hosts (pending handlers, servers it drained): a file of
// lines, changed by one shell command each, so that a record costs no extra round trip.
import { shellQuote } from '../shell/quote.js';

/** Appends the lines that are not there yet (creating the file and its folder). */
export function addLinesCommand(file: string, lines: string[]): string {
  const dir = file.includes('/') ? file.slice(0, file.lastIndexOf('/')) : '.';
  const f = shellQuote(file);
  const adds = lines.map((l) => `{ grep -qxF -- ${shellQuote(l)} ${f} 2>/dev/null || printf '%s\\n' ${shellQuote(l)} >> ${f}; }`);
  return `mkdir -p ${shellQuote(dir)} && ${adds.join(' && ')}`;
}

/**
 * Removes exactly these lines; a missing file is fine. The rest is written to a temp file beside
 * the record and renamed over it only when grep wrote all of it: a full disk leaves the record as
 * it was, never cut short (a lost line is a handler that never runs, or a server left drained).
 */
export function removeLinesCommand(file: string, lines: string[]): string {
  const f = shellQuote(file);
  const patterns = lines.map((l) => `-e ${shellQuote(l)}`).join(' ');
  // grep -v exits 1 when nothing is left (the file is then empty, which is fine) and 2 on error.
  const keep = `{ grep -vxF ${patterns} ${f}; [ $? -le 1 ]; }`;
  return `if [ -f ${f} ]; then ( t=$(mktemp ${shellQuote(`${file}.XXXXXX`)}) || exit 1; ${keep} > "$t" && mv -f -- "$t" ${f} || { rm -f -- "$t"; exit 1; } ); fi`;
}
