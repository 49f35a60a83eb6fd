// The check an archive passes before unarchive extracts it, run on the host over GNU tar's own
// listing (`tar -tv --quoting-style=c`, names in C quotes, so " -> " inside a name cannot fool
// it). Refused: absolute names, ".." components, names with special characters, device files and
// fifos, symlinks whose target is absolute or leaves the destination, hard links out of the
// archive, and members stored under one of the archive's own symlinks (written through it).
// On success it prints the archive's top-level names, one a line, for chown.
import { shellQuote } from '../shell/quote.js';

const AWK = String.raw`
function bad(why) { printf "%s\n", why > "/dev/stderr"; failed = 1; exit 3 }
function unquote(s,   out, j, c) {
  out = ""; j = 2
  while (j <= length(s)) {
    c = substr(s, j, 1)
    if (c == "\\") { out = out substr(s, j, 2); j += 2; continue }
    if (c == "\"") { rest = substr(s, j + 1); return out }
    out = out c; j++
  }
  bad("unreadable listing line")
}
# Components of a path without "" and "." parts, into the array p; returns their count.
function parts(path, p,   raw, n, k, m) {
  n = split(path, raw, "/"); m = 0
  for (k = 1; k <= n; k++) if (raw[k] != "" && raw[k] != ".") p[++m] = raw[k]
  return m
}
{
  type = substr($0, 1, 1)
  i = index($0, "\"")
  if (i == 0) bad("unreadable listing line: " $0)
  name = unquote(substr($0, i))
  if (index(name, "\\")) bad("member with special characters in its name: " name)
  if (type != "-" && type != "d" && type != "l" && type != "h") bad("member is a device, fifo or socket: " name)
  if (substr(name, 1, 1) == "/") bad("member with an absolute name: " name)
  n = parts(name, p)
  for (k = 1; k <= n; k++) if (p[k] == "..") bad("member with a .. component: " name)
  members[++count] = name
  if (n > 0) tops[p[1]] = 1
  if (type == "l") {
    if (substr(rest, 1, 5) != " -> \"") bad("unreadable symlink line: " name)
    target = unquote(substr(rest, 5))
    if (target == "" || substr(target, 1, 1) == "/") bad("symlink with an absolute target: " name " -> " target)
    depth = n - 1
    m = split(target, t, "/")
    for (k = 1; k <= m; k++) {
      if (t[k] == "..") { if (--depth < 0) bad("symlink leaving the destination: " name " -> " target) }
      else if (t[k] != "" && t[k] != ".") depth++
    }
    links[n > 0 ? joined(p, n) : name] = 1
  }
  if (type == "h") {
    if (substr(rest, 1, 10) != " link to \"") bad("unreadable hard link line: " name)
    target = unquote(substr(rest, 10))
    if (substr(target, 1, 1) == "/") bad("hard link to an absolute path: " name)
    m = parts(target, t)
    for (k = 1; k <= m; k++) if (t[k] == "..") bad("hard link with a .. component: " name)
  }
}
function joined(p, n,   s, k) { s = p[1]; for (k = 2; k <= n; k++) s = s "/" p[k]; return s }
END {
  if (failed) exit 3
  if (count == 0) bad("the archive is empty")
  for (j = 1; j <= count; j++) {
    n = parts(members[j], p)
    for (k = 1; k < n; k++) if (joined(p, k) in links) bad("member stored through the archive's own symlink " joined(p, k) ": " members[j])
  }
  for (top in tops) print top
}
`;

/** Shell lines: check the archive in "$tmp"; on success "$tops" holds its top-level names. */
export function archiveCheckLines(what: string): string[] {
  return [
    // -P: names exactly as stored (without it tar would list "/etc/x" as "etc/x").
    `if ! listing=$(LC_ALL=C tar -tvPf "$tmp" --quoting-style=c --numeric-owner 2>/dev/null); then`,
    `  LC_ALL=C tar -tf "$tmp" 2>&1 >/dev/null | head -n 5 >&2`,
    `  printf '%s\\n' ${shellQuote(`${what}: not an archive tar can read; nothing extracted`)} >&2`,
    '  exit 1',
    'fi',
    `if ! tops=$(printf '%s\\n' "$listing" | LC_ALL=C awk ${shellQuote(AWK)}); then`,
    `  printf '%s\\n' ${shellQuote(`${what}: refused (see above); nothing extracted`)} >&2`,
    '  exit 1',
    'fi',
  ];
}
