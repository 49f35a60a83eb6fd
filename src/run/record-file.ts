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

/** Removes exactly these lines; a missing file is fine. */
export function removeLinesCommand(file: string, lines: string[]): string {
  const f = shellQuote(file);
  const patterns = lines.map((l) => `-e ${shellQuote(l)}`).join(' ');
  // grep -v exits 1 when nothing is left: that is fine, the file is then empty.
  return `if [ -f ${f} ]; then { grep -vxF ${patterns} ${f} || true; } > ${f}.tmp && mv -f ${f}.tmp ${f}; fi`;
}
