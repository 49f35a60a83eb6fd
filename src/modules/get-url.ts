// get_url: a file downloaded by the host itself (curl), verified against a sha256, written
// atomically. Converged is decided from the probe alone: the destination's sha256 equals the
// checksum, so a fetched file costs no download and no extra round trip on later runs.
import type { FactQuery, FileFact, HostFacts } from '../facts/types.js';
import { ModuleArgs } from './args.js';
import { fetchFileScript, type FetchOptions } from './fetch-script.js';
import { matchReason, metaChanges, metaCommands, withMeta, type WantedMeta } from './file-meta.js';
import { DEFAULT_NEW_FILE_MODE, parentDir } from './file-write-script.js';
import { docArgNames, type ModuleDefinition, type ModuleDoc, type PlanContext, type TaskPlan } from './types.js';
import { readChecksum, readUrl } from './url-arg.js';

export interface GetUrlArgs extends WantedMeta {
  url: string;
  dest: string;
  /** sha256 hex the file must have. */
  checksum?: string;
  force: boolean;
  timeout: number;
}

export const DEFAULT_FETCH_TIMEOUT = 60;

export const getUrlDoc: ModuleDoc = {
  args: [
    { name: 'url', type: 'string', required: true, description: 'http:// or https:// URL the host downloads from (with curl).' },
    { name: 'dest', type: 'path', required: true, description: 'Absolute path of the file to write; its directory must exist.' },
    { name: 'checksum', type: 'string', description: 'sha256:HEX the file must have. Required for http:// URLs. With it, a file that already has this hash is ok without any download.' },
    { name: 'mode', type: 'string', description: "Octal mode such as '0644' (new files default to 0644)." },
    { name: 'owner', type: 'string', description: 'Owner user name.' },
    { name: 'group', type: 'string', description: 'Group name.' },
    { name: 'force', type: 'boolean', default: 'false', description: 'Without a checksum: download again even when dest exists (reported as changed on every run).' },
    { name: 'timeout', type: 'integer', default: String(DEFAULT_FETCH_TIMEOUT), description: 'Seconds the whole download may take.' },
  ],
  example: '- name: node exporter release\n  get_url:\n    url: https://example.org/releases/app-1.2.3.tar.gz\n    dest: /opt/app-1.2.3.tar.gz\n    checksum: "sha256:0000000000000000000000000000000000000000000000000000000000000000"\n    mode: "0644"\n',
  notes: [
    'The host downloads (curl must be installed there); the controller never relays the bytes.',
    'Redirects: up to 5 are followed. With a checksum, to http or https (the bytes are verified anyway); without one, only to https, so a redirect cannot downgrade the transfer.',
    'A failed download or a checksum mismatch leaves the old file in place and fails the task.',
    'Without a checksum an existing dest is not compared (ok unless force: true): give a checksum for a file that must be exact.',
  ],
};

export const getUrlModule: ModuleDefinition<GetUrlArgs> = {
  name: 'get_url',
  summary: 'Download a file on the host (checksum-verified, atomic); ok when dest already has the checksum.',
  doc: getUrlDoc,
  validate(raw, where) {
    const args = ModuleArgs.read('get_url', raw, where, docArgNames(getUrlDoc));
    const url = readUrl(args, 'url');
    if (url === undefined) throw args.error(undefined, 'missing required argument "url"');
    const checksum = readChecksum(args);
    if (checksum === undefined && !url.https && !url.url.includes('<%')) {
      throw args.error('checksum', `an http:// URL needs a checksum: anyone on the path could change the file`, 'checksum: "sha256:HEX" (sha256sum of the file you expect), or an https:// URL');
    }
    const result: GetUrlArgs = { url: url.url, dest: args.requiredPath('dest', { file: true }), force: args.boolean('force') ?? false, timeout: readTimeout(args) };
    if (checksum !== undefined) result.checksum = checksum;
    const mode = args.mode('mode');
    const owner = args.account('owner');
    const group = args.account('group');
    if (mode !== undefined) result.mode = mode;
    if (owner !== undefined) result.owner = owner;
    if (group !== undefined) result.group = group;
    return result;
  },
  resolve: (args) => args,
  queries: (args): FactQuery[] => [{ kind: 'file', path: args.dest }, { kind: 'file', path: parentDir(args.dest) }],
  plan: planGetUrl,
};

function fetchOptions(args: GetUrlArgs): FetchOptions {
  const { checksum, force: _force, ...rest } = args;
  return checksum === undefined ? rest : { ...rest, sha256: checksum };
}

export function readTimeout(args: ModuleArgs): number {
  const raw = args.value('timeout');
  if (raw === undefined || raw === null) return DEFAULT_FETCH_TIMEOUT;
  const value = typeof raw === 'string' && /^\d+$/.test(raw.trim()) ? Number(raw) : raw;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 86400) {
    throw args.error('timeout', '"timeout" must be a whole number of seconds from 1 to 86400');
  }
  return value;
}

const short = (sha: string | undefined): string => (sha === undefined ? '?' : `${sha.slice(0, 12)}…`);

/** Why the destination cannot be written, or undefined when it can. */
export function destProblem(dest: string, facts: HostFacts): string | undefined {
  const current = facts.files.get(dest);
  if (!current) return `no facts gathered for ${dest}`;
  if (current.exists && current.type !== 'file') return `${dest} is ${current.type === 'link' ? `a symlink to ${current.linkTarget ?? '?'}; name its target instead` : `a ${current.type ?? 'special file'}`}`;
  if (!current.exists) {
    const parent = facts.files.get(parentDir(dest));
    if (!parent?.exists) return `parent directory ${parentDir(dest)} does not exist; create it first with a file task (state: directory)`;
    if (parent.type !== 'directory' && !(parent.type === 'link' && parent.linkToDirectory)) return `${parentDir(dest)} is not a directory`;
  }
  return undefined;
}

export function planGetUrl(args: GetUrlArgs, facts: HostFacts, ctx: PlanContext): TaskPlan {
  const problem = destProblem(args.dest, facts);
  if (problem !== undefined) return { status: 'failed', reason: problem };
  const current = facts.files.get(args.dest) as FileFact;
  const meta = current.exists ? metaChanges(current, args) : [];
  const contentOk = current.exists && (args.checksum !== undefined ? current.sha256 === args.checksum : !args.force);
  if (contentOk) {
    const compared = args.checksum !== undefined ? 'checksum' : 'presence (no checksum given)';
    if (meta.length === 0) return { status: 'ok', reason: matchReason([compared], args) };
    return {
      status: 'changed',
      summary: `${meta.join(', ')} on ${args.dest}`,
      diff: { path: args.dest, before: null, after: null, metaChanges: meta, sensitive: false },
      steps: [{ command: metaCommands(args.dest, current, args).join(' && '), become: ctx.become, description: `set ${meta.join(', ')} on ${args.dest}` }],
      assume: (cache) => cache.files.set(args.dest, withMeta(current, args)),
    };
  }
  const hashChange = `sha256 ${current.exists ? short(current.sha256) : '(none)'} -> ${args.checksum === undefined ? '(unknown until downloaded)' : short(args.checksum)}`;
  const summary = current.exists
    ? `download ${args.url} over ${args.dest} (${args.checksum === undefined ? 'force' : 'checksum differs'})`
    : `download ${args.url} to ${args.dest} (${args.mode ?? DEFAULT_NEW_FILE_MODE}${args.owner === undefined ? '' : ` ${args.owner}`}${args.group === undefined ? '' : `:${args.group}`})`;
  return {
    status: 'changed',
    summary,
    diff: { path: args.dest, before: null, after: null, metaChanges: [hashChange, ...meta], sensitive: false, binary: true, contentChanged: true },
    steps: [{ command: fetchFileScript(fetchOptions(args)), become: ctx.become, description: `download ${args.url} to ${args.dest}` }],
    assume(cache) {
      const after: FileFact = {
        path: args.dest,
        exists: true,
        type: 'file',
        mode: current.exists ? (current.mode ?? DEFAULT_NEW_FILE_MODE) : DEFAULT_NEW_FILE_MODE,
        ...(args.checksum === undefined ? {} : { sha256: args.checksum }),
        ...(current.exists && current.owner !== undefined ? { owner: current.owner } : {}),
        ...(current.exists && current.group !== undefined ? { group: current.group } : {}),
      };
      cache.files.set(args.dest, withMeta(after, args));
    },
  };
}
