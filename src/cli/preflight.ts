// Checks between reading the files and the first connection, so that bad input stops the
// run before any host is touched: plays left without hosts, key files that cannot work.
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { ConfigError, UserInputError, formatSourceRef, type SourceRef } from '../errors.js';
import { didYouMean, listNames } from '../config/suggest.js';
import { readFailure } from '../config/text-file.js';
import type { PlayConfig } from '../config/types.js';
import type { Host } from '../inventory/index.js';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { ParsedKey } from 'ssh2';
import { askPassphraseOnce, DEFAULT_PASSPHRASE_ENV, forgetPassphrase } from '../transport/auth.js';
import { sharedPrivateKeys, type PrivateKeyCache } from '../transport/private-keys.js';
import { promptHidden } from '../transport/prompt.js';
import { terminalLine } from '../text/terminal-text.js';
import { agentInsteadOfSshConfigKey } from './ssh-config-agent.js';

export interface RunToCheck {
  plays: readonly PlayConfig[];
  hostsForPlay: (play: PlayConfig) => string[];
  limit: string | undefined;
  /** Every host of the inventory. */
  hosts: readonly Host[];
  /** Defaults to stderr. */
  warn?: (message: string) => void;
  tags?: readonly string[];
  skipTags?: readonly string[];
  /** `--shard`: the hosts this run contacts (the plays are checked with every shard's). */
  contacted?: ReadonlySet<string>;
}

/** All the checks of a run, in order; throws the first problem as bad input (exit 2). */
export async function checkBeforeConnecting(run: RunToCheck): Promise<void> {
  // Names from the playbook and the --limit text are shown, never obeyed by the terminal.
  const warn = run.warn ?? ((message: string) => process.stderr.write(`warning: ${terminalLine(message)}\n`));
  const selected = checkPlayHosts(run.plays, run.hostsForPlay, run.limit);
  for (const warning of selected.warnings) warn(warning);
  for (const warning of checkTagNames(run.plays, run.tags ?? [], run.skipTags ?? [])) warn(warning);
  const hosts = run.hosts.filter((h) => selected.hosts.has(h.name) && (run.contacted?.has(h.name) ?? true));
  await checkKeyFiles(hosts, sharedPrivateKeys, terminalPassphraseSource());
  await checkKnownHostsFiles(hosts, join(homedir(), '.ssh', 'known_hosts'));
}

const SPECIAL_TAGS = ['all', 'always', 'never', 'tagged', 'untagged'];

/**
 * A `--tags` name that no task of the playbook has (a typo) selects nothing: bad input, with the
 * closest tag, like a `--limit` term that matches no host. An unknown `--skip-tags` name skips nothing: a warning.
 */
export function checkTagNames(plays: readonly PlayConfig[], tags: readonly string[], skipTags: readonly string[]): string[] {
  const known = new Set<string>();
  for (const play of plays) for (const task of [...play.tasks, ...play.handlers]) for (const tag of task.tags) known.add(tag);
  const unknown = (name: string): boolean => !known.has(name) && !SPECIAL_TAGS.includes(name);
  const hint = known.size ? `tags in this playbook: ${listNames([...known].sort())}` : 'no task of this playbook has tags';
  const missing = tags.find(unknown);
  if (missing !== undefined) throw new UserInputError(`--tags: no task has the tag "${missing}"${didYouMean(missing, known)}`, undefined, hint);
  return skipTags.filter(unknown).map((name) => `--skip-tags: no task has the tag "${name}"${didYouMean(name, known)}, so it skips nothing`);
}

/** Where an encrypted key's passphrase comes from, as the SSH transport would look for it. */
export function terminalPassphraseSource(): PassphraseSource {
  const fromEnv = process.env[DEFAULT_PASSPHRASE_ENV];
  if (fromEnv !== undefined) return { fromEnv };
  return process.stdin.isTTY ? { ask: (path) => askPassphraseOnce(path, promptHidden), forget: forgetPassphrase } : {};
}

/**
 * Every play's hosts, after `--limit`. A play left with none is skipped with a warning that
 * names it; a run left with no host at all is bad input (exit 2), not a quiet success.
 */
export function checkPlayHosts(plays: readonly PlayConfig[], hostsForPlay: (play: PlayConfig) => string[], limit: string | undefined): { hosts: Set<string>; warnings: string[] } {
  const hosts = new Set<string>();
  const warnings: string[] = [];
  for (const play of plays) {
    const chosen = hostsForPlay(play);
    for (const host of chosen) hosts.add(host);
    if (chosen.length === 0) {
      const why = limit === undefined ? `hosts "${play.hosts}" matches no host` : `--limit "${limit}" leaves it no host (its hosts: "${play.hosts}")`;
      warnings.push(`play "${play.name}" (${formatSourceRef(play.where)}) is skipped: ${why}`);
    }
  }
  if (hosts.size === 0 && plays.length > 0) {
    throw new UserInputError(
      limit === undefined ? 'no play of the playbook matches any host' : `--limit "${limit}" leaves no play of the playbook any host`,
      undefined,
      `the plays run on: ${plays.map((p) => `"${p.hosts}"`).join(', ')}`,
    );
  }
  return { hosts, warnings };
}

/**
 * Each distinct `key:` file of the hosts about to be contacted exists, is readable and holds a
 * private key. An encrypted key passes: its passphrase is asked for (or read) when connecting.
 * Errors point at the inventory line of the `key:` setting.
 */
export interface PassphraseSource {
  /** The passphrase from the environment (FOOBAR_SSH_PASSPHRASE), if set. */
  fromEnv?: string;
  /** Set when the operator can be asked (stdin is a terminal); Ctrl-C there ends the run (130). */
  ask?: (path: string) => Promise<string>;
  /** Called when an asked passphrase turned out wrong, so it is not reused. */
  forget?: (path: string) => void;
}

export async function checkKeyFiles(hosts: readonly Host[], keys: PrivateKeyCache, passphrase: PassphraseSource = {}): Promise<void> {
  const users = new Map<string, { where: SourceRef; names: string[] }>();
  const use = (key: string | undefined, where: SourceRef, name: string): void => {
    if (key === undefined) return;
    const entry = users.get(key) ?? { where, names: [] };
    if (!entry.names.includes(name)) entry.names.push(name);
    users.set(key, entry);
  };
  for (const host of hosts) {
    use(host.connection.key, host.connection.keyWhere ?? host.where, host.name);
    // The jump hosts' keys are needed before the host's own.
    for (const hop of host.connection.hops ?? []) use(hop.key, hop.keyWhere ?? host.where, `jump host ${hop.name}`);
  }
  for (const [key, { where, names }] of users) {
    const usedBy = `used by ${listNames(names, 5)}`;
    let parsed;
    try {
      parsed = await keys.load(key);
    } catch (err) {
      throw new ConfigError(`key: cannot read private key ${key}: ${readFailure(err)}`, where, `${usedBy}; fix the path or the file's permissions`);
    }
    if (parsed instanceof Error && /passphrase/i.test(parsed.message)) {
      if (agentInsteadOfSshConfigKey(key, hosts)) continue;
      parsed = await decryptedKey(key, where, keys, passphrase);
    }
    if (parsed instanceof Error) {
      throw new ConfigError(`key: ${key} is not a private key the tool can use: ${parsed.message}`, where, 'expected an OpenSSH or PEM private key file (not the .pub file)');
    }
    if (!parsed.isPrivateKey()) {
      throw new ConfigError(`key: ${key} holds a public key only`, where, 'point key: at the private key (the file without .pub)');
    }
  }
}

/**
 * An encrypted key is opened here too, once, before any connection: a missing or wrong passphrase
 * is bad input at the `key:` line, and the connections reuse the answer.
 */
async function decryptedKey(key: string, where: SourceRef, keys: PrivateKeyCache, source: PassphraseSource): Promise<ParsedKey | Error> {
  const { fromEnv, ask } = source;
  if (fromEnv === undefined && !ask) {
    throw new ConfigError(`key: ${key} is encrypted and no passphrase is available`, where, `set ${DEFAULT_PASSPHRASE_ENV}, run from a terminal to be asked, or load the key into ssh-agent`);
  }
  const given = fromEnv ?? (await ask!(key));
  const parsed = await keys.load(key, given);
  if (parsed instanceof Error) {
    if (fromEnv === undefined) source.forget?.(key);
    throw new ConfigError(`key: cannot decrypt ${key} with the passphrase ${fromEnv === undefined ? 'entered' : `from ${DEFAULT_PASSPHRASE_ENV}`}`, where, parsed.message);
  }
  return parsed;
}

/**
 * The known_hosts files the hosts will use: a missing one is fine (it is created when a key is
 * accepted), but one that is a directory or unreadable would fail every host mid-run.
 */
export async function checkKnownHostsFiles(hosts: readonly Host[], userFile: string): Promise<void> {
  const files = new Map<string, SourceRef | undefined>([[userFile, undefined]]);
  for (const host of hosts) {
    const { knownHosts, knownHostsWhere } = host.connection;
    if (knownHosts !== undefined && !files.has(knownHosts)) files.set(knownHosts, knownHostsWhere ?? host.where);
  }
  for (const [file, where] of files) {
    const info = await stat(file).catch(() => undefined);
    if (!info) continue;
    const label = where ? 'known_hosts: ' : '';
    if (!info.isFile()) throw new ConfigError(`${label}${file} is not a file`, where, 'expected a known_hosts file (one host key per line)');
    await access(file, constants.R_OK).catch((err: unknown) => {
      throw new ConfigError(`${label}cannot read ${file}: ${readFailure(err)}`, where);
    });
  }
}
