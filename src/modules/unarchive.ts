// unarchive: a tarball from the controller (sent over the connection) or from a URL (the host
// downloads it, checksum required), checked member by member before GNU tar extracts it into an
// existing directory. A marker file in that directory records the archive's sha256 (and owner and
// group), so the probe alone tells whether this exact archive is already extracted.
import { readFile } from 'node:fs/promises';
import { recordInput } from '../config/input-files.js';
import { ConfigError } from '../errors.js';
import type { FactQuery, HostFacts } from '../facts/types.js';
import { receiveLines } from '../shell/receive-file.js';
import { shellQuote } from '../shell/quote.js';
import { isUnrendered, ModuleArgs } from './args.js';
import { archiveCheckLines } from './archive-check.js';
import { sha256 } from './apt-sources.js';
import { downloadLines } from './fetch-script.js';
import { formatSize, ownerSpec, type WantedMeta } from './file-meta.js';
import { readTimeout } from './get-url.js';
import { locateSource } from './search-path.js';
import { docArgNames, type ModuleDefinition, type ModuleDoc, type PlanContext, type TaskPlan } from './types.js';
import { checkUrl, readChecksum } from './url-arg.js';

export interface UnarchiveArgs extends Omit<WantedMeta, 'mode'> {
  src: string;
  remote: boolean;
  dest: string;
  checksum?: string;
  creates?: string;
  timeout: number;
}

export interface ResolvedUnarchive extends UnarchiveArgs {
  /** The archive's bytes, for a controller src. */
  data?: Buffer;
  sha256: string;
  marker: { path: string; content: string; sha256: string };
}

export const unarchiveDoc: ModuleDoc = {
  args: [
    { name: 'src', type: 'string', required: true, description: 'A tar archive on the controller (beside the playbook or in the role; sent over the connection), or an http(s) URL the host downloads.' },
    { name: 'dest', type: 'path', required: true, description: 'Existing directory to extract into.' },
    { name: 'checksum', type: 'string', description: 'sha256:HEX of the archive. Required when src is a URL; checked against a controller file too when given.' },
    { name: 'creates', type: 'path', description: 'When this path exists on the host, the task is ok and nothing is extracted.' },
    { name: 'owner', type: 'string', description: 'Owner of everything extracted (default: the user running the task, root under become).' },
    { name: 'group', type: 'string', description: 'Group of everything extracted.' },
    { name: 'timeout', type: 'integer', default: '60', description: 'Seconds the download of a URL src may take.' },
  ],
  example: '- name: app release\n  unarchive:\n    src: app-1.2.3.tar.gz\n    dest: /opt/app\n    owner: www-data\n',
  notes: [
    'Extracted only when the archive\'s sha256 (or owner/group) differs from the marker .NAME.fbp-unarchive in dest; files changed by hand inside dest are not detected.',
    'Refused before extracting: absolute names, .. components, device files, symlinks that are absolute or leave dest, hard links out of the archive, members stored through the archive\'s own symlinks, names with special characters.',
    'A symlink already in dest that points elsewhere is followed by tar: keep dest for the archive.',
    'Any compression GNU tar on the host detects (gzip, xz, bzip2, zstd when installed).',
  ],
};

/** `.app-1.2.3.tar.gz.fbp-unarchive`: one marker per archive name, hidden, recognisable. */
export function markerName(src: string): string {
  const base = src.replace(/[?#].*$/, '').split('/').filter((s) => s !== '').pop() ?? 'archive';
  return `.${base.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 100)}.fbp-unarchive`;
}

export const unarchiveModule: ModuleDefinition<UnarchiveArgs, ResolvedUnarchive> = {
  name: 'unarchive',
  summary: 'Extract a tar archive (controller file or checksum-pinned URL) into a directory, only when the archive changed.',
  doc: unarchiveDoc,
  validate(raw, where) {
    const args = ModuleArgs.read('unarchive', raw, where, docArgNames(unarchiveDoc));
    const src = args.requiredString('src');
    const remote = /^[a-z][a-z0-9+.-]*:\/\//i.test(src);
    const checksum = readChecksum(args);
    if (remote && !isUnrendered(src)) {
      checkUrl(args, 'src', src, ['http:', 'https:']);
      if (checksum === undefined) throw args.error('checksum', 'a URL src needs a checksum: the archive is extracted only when its sha256 is known', 'checksum: "sha256:HEX"');
    }
    const dest = args.requiredPath('dest');
    if (dest === '/') throw args.error('dest', 'dest must not be /', 'extract into a directory of its own, e.g. /opt/app');
    const result: UnarchiveArgs = { src, remote, dest, timeout: readTimeout(args) };
    const creates = args.path('creates');
    const owner = args.account('owner');
    const group = args.account('group');
    if (checksum !== undefined) result.checksum = checksum;
    if (creates !== undefined) result.creates = creates;
    if (owner !== undefined) result.owner = owner;
    if (group !== undefined) result.group = group;
    return result;
  },
  async resolve(args, ctx) {
    let data: Buffer | undefined;
    let digest = args.checksum ?? '';
    if (!args.remote) {
      const where = ctx.where.arg['src'] ?? ctx.where.task;
      const { file, tried, problem } = locateSource(args.src, ctx.searchPath);
      if (file === undefined) throw new ConfigError(`unarchive src "${args.src}" ${problem ?? 'not found'}`, where, problem ? undefined : `searched: ${tried.join(', ') || '(empty search path)'}`);
      data = await readFile(file);
      recordInput(file, data);
      digest = sha256(data);
      if (args.checksum !== undefined && args.checksum !== digest) {
        throw new ConfigError(`unarchive src "${args.src}" has sha256 ${digest}, not the checksum ${args.checksum}`, ctx.where.arg['checksum'] ?? where);
      }
    }
    const content = `sha256 ${digest}\nowner ${args.owner ?? '-'}\ngroup ${args.group ?? '-'}\n`;
    return { ...args, ...(data === undefined ? {} : { data }), sha256: digest, marker: { path: `${args.dest}/${markerName(args.src)}`, content, sha256: sha256(content) } };
  },
  queries(r): FactQuery[] {
    return [
      { kind: 'file', path: r.dest },
      { kind: 'file', path: r.marker.path, expectSha256: r.marker.sha256, fetchContent: true },
      ...(r.creates === undefined ? [] : [{ kind: 'file' as const, path: r.creates }]),
    ];
  },
  plan: planUnarchive,
};

export function planUnarchive(r: ResolvedUnarchive, facts: HostFacts, ctx: PlanContext): TaskPlan {
  const dest = facts.files.get(r.dest);
  if (!dest) return { status: 'failed', reason: `no facts gathered for ${r.dest}` };
  if (!dest.exists) return { status: 'failed', reason: `${r.dest} does not exist; create it first with a file task (state: directory)` };
  if (dest.type !== 'directory' && !(dest.type === 'link' && dest.linkToDirectory)) return { status: 'failed', reason: `${r.dest} is not a directory` };
  if (r.creates !== undefined && facts.files.get(r.creates)?.exists) return { status: 'ok', reason: `${r.creates} exists (creates)` };
  const marker = facts.files.get(r.marker.path);
  if (marker?.exists && marker.sha256 === r.marker.sha256) return { status: 'ok', reason: `archive sha256 ${r.sha256.slice(0, 12)}… already extracted (${r.marker.path})` };
  const before = marker?.exists && marker.content !== undefined ? marker.content.toString('utf8') : null;
  const size = r.data === undefined ? '' : `, ${formatSize(r.data.length)}`;
  return {
    status: 'changed',
    summary: `extract ${r.src} (sha256 ${r.sha256.slice(0, 12)}…${size}) into ${r.dest}`,
    // The marker's diff says exactly which archive replaces which.
    diff: { path: r.marker.path, before, after: r.marker.content, metaChanges: [], sensitive: false, contentChanged: true },
    steps: [{ ...extractStep(r), become: ctx.become, description: `extract ${r.src} into ${r.dest}` }],
    assume(cache) {
      cache.files.set(r.marker.path, { path: r.marker.path, exists: true, type: 'file', size: r.marker.content.length, sha256: r.marker.sha256, content: Buffer.from(r.marker.content) });
    },
  };
}

function extractStep(r: ResolvedUnarchive): { command: string; stdin?: Buffer; checksInput?: true } {
  const what = `unarchive ${r.src}`;
  const name = markerName(r.src).replace(/^\./, '').replace(/\.fbp-unarchive$/, '');
  const fetch = r.data !== undefined
    ? receiveLines({ dest: `${r.dest}/.${name}`, size: r.data.length, sha256: r.sha256 })
    : downloadLines({ url: r.src, tmpDir: r.dest, tmpName: name, sha256: r.sha256, timeout: r.timeout, what });
  const owners = ownerSpec(r);
  const lines = [
    ...fetch,
    ...archiveCheckLines(what),
    // Files keep the archive's modes; owners are ours, never the archive's numeric ids.
    `if ! out=$(tar -xf "$tmp" -C ${shellQuote(r.dest)} --no-same-owner --no-overwrite-dir --exclude=${shellQuote(markerName(r.src))} 2>&1); then`,
    `  printf '%s\\n' "$out" ${shellQuote(`${what}: extraction into ${r.dest} failed part way; the marker is not written, so the next run extracts again`)} >&2`,
    '  exit 1',
    'fi',
    ...(owners === undefined ? [] : [`printf '%s\\n' "$tops" | while IFS= read -r top; do chown -R -h ${shellQuote(owners)} -- ${shellQuote(r.dest)}/"$top" || exit 1; done || exit 1`]),
    `mk=$(mktemp ${shellQuote(`${r.dest}/.fbp-marker.`)}XXXXXX) || exit 1`,
    `printf '%s' ${shellQuote(r.marker.content)} > "$mk" && chmod 0644 "$mk" && mv -f -- "$mk" ${shellQuote(r.marker.path)} || { rm -f -- "$mk"; exit 1; }`,
  ];
  return r.data !== undefined ? { command: lines.join('\n'), stdin: r.data, checksInput: true } : { command: lines.join('\n') };
}
