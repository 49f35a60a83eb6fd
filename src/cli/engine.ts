// Glue from parsed options to the engine: load the inventory and playbook, map hosts to
// transports, choose a reporter, run. Returns an exit code; never prints usage.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { loadPlaybook } from '../config/playbook.js';
import { resolveInventoryPath } from '../config/inventory.js';
import { computeBatches, hostVars, openInventory, selectHosts, type Host, type Inventory } from '../inventory/index.js';
import { knownModuleNames } from '../modules/registry.js';
import { useProjectModules } from '../plugins/index.js';
import type { RunMode, RunSummary } from '../plan/types.js';
import { ConsoleReporter } from '../report/console.js';
import { runAbortController } from './run-abort.js';
import { JsonReporter } from '../report/json.js';
import { JsonStreamReporter } from '../report/json-stream.js';
import { Redactor, redactError } from '../report/redact.js';
import type { Reporter } from '../report/reporter.js';
import { hasUsableWidth } from '../report/progress.js';
import { terminalLine } from '../text/terminal-text.js';
import { uncheckedHosts } from '../report/unchecked.js';
import { runPlaybook, RunInterrupted } from '../run/playbook-runner.js';
import { renderTemplateString } from '../template/render.js';
import { sharedJumpPool } from '../transport/jump-pool.js';
import { jumpSettings } from './jump-settings.js';
import { notifyOnConnect } from '../transport/connect-notice.js';
import { inventoryDirOf, lazyPassword, refuseShortSecrets, secretValues, vaultDecryptHook } from '../vault/index.js';
import type { ConnectionSettings } from '../transport/types.js';
import { EXIT } from './exit-codes.js';
import { checkBeforeConnecting } from './preflight.js';
import { runInputs } from './run-inputs.js';
import { toolVersion } from './tool-version.js';
import { syncLineWriter } from './sync-output.js';
import { chooseResumeHosts, recordApply } from './resume-option.js';
import { historyContext } from './history-context.js';
import { ensureFdLimit } from './fd-limit.js';
import { runFlow, sayOnStderr, type FlowOptions } from './plan-flow.js';
import { shardInputs, shardLine, shardReporter, type ShardSelection } from './shard-run.js';

/** The flow's options (mode, inventory, playbook, limit, tags, vars, plan file) and the run's own. */
export interface RunCommandOptions extends FlowOptions {
  forks: number;
  json: boolean;
  /** One JSON event per line as the run goes (never together with `json`). */
  jsonStream: boolean;
  color: boolean;
  verbosity: number;
  acceptNewHostKeys: boolean;
  /** `--lock-wait`: wait this long for a host another run holds. */
  lockWaitMs?: number;
  /** `--resume`: only the hosts the last apply left unfinished. */
  resume?: boolean;
  /** `--shard K/N` (and `--shard-by`): only this shard's hosts (see shard-run.ts). */
  shard?: ShardSelection;
}

/** `settingsOf` gives an inventory host's own settings, for the jump hops that are inventory hosts. */
export function connectionSettings(host: Host, vars: Record<string, unknown>, secrets: ReadonlySet<string>, options: Pick<RunCommandOptions, 'acceptNewHostKeys'>, settingsOf?: (name: string) => ConnectionSettings): ConnectionSettings {
  const c = host.connection;
  const userKnownHosts = join(homedir(), '.ssh', 'known_hosts');
  const becomePassword = c.becomePassword === undefined
    ? undefined
    : renderTemplateString(c.becomePassword, vars, { file: host.where.file, line: host.where.line }, { secretVarNames: secrets }).content;
  const knownHostsFiles = [userKnownHosts, ...(c.knownHosts ? [c.knownHosts] : [])];
  const jump = jumpSettings(host, { knownHostsFiles, acceptNewHostKeys: options.acceptNewHostKeys, maxChannels: c.maxChannels }, userKnownHosts, settingsOf);
  return {
    hostName: host.name,
    address: host.address,
    port: host.port,
    user: host.user,
    ...(c.key ? { privateKeyPath: c.key } : {}),
    knownHostsFiles,
    knownHostsWriteFile: c.knownHosts ?? userKnownHosts,
    acceptNewHostKeys: options.acceptNewHostKeys,
    connectTimeoutMs: c.connectTimeout * 1000,
    // No limit unless the inventory sets one (as with Ansible); a limit wraps each command in `timeout`.
    commandTimeoutMs: (c.commandTimeout ?? 0) * 1000,
    ...(becomePassword ? { becomePassword } : {}),
    maxChannels: c.maxChannels,
    ...(c.keepaliveInterval !== undefined ? { keepaliveIntervalMs: c.keepaliveInterval * 1000 } : {}),
    ...(c.keepaliveCountMax !== undefined ? { keepaliveCountMax: c.keepaliveCountMax } : {}),
    ...(c.connectRetries !== undefined ? { connectRetries: c.connectRetries } : {}),
    ...(c.jumpChannels !== undefined ? { jumpChannels: c.jumpChannels } : {}),
    ...(jump ? { jump } : {}),
  };
}

function makeReporter(options: RunCommandOptions, redactor: Redactor): Reporter {
  if (options.jsonStream) {
    const run = { mode: options.mode, playbook: options.playbook, inventory: options.inventory };
    // Written synchronously: a forced exit (a second Ctrl-C) must not cut a line in half.
    return new JsonStreamReporter({ redactor, version: toolVersion(), exitCodeFor: (summary) => exitCodeFor(summary, options), out: syncLineWriter() }, run);
  }
  if (options.json) return new JsonReporter(redactor);
  // No spinner without a terminal of known width (`script`, `docker run -t` report 0 columns),
  // nor on one that cannot move the cursor.
  const progress = hasUsableWidth(process.stderr) && process.env['TERM'] !== 'dumb';
  return new ConsoleReporter({ color: options.color, verbosity: options.verbosity, redactor, progress });
}

export function exitCodeFor(summary: RunSummary, options: Pick<RunCommandOptions, 'mode' | 'exitCode'>): number {
  if (summary.interrupted) return EXIT.interrupted;
  if (summary.hosts.some((h) => h.status === 'failed' || h.status === 'unreachable' || h.status === 'locked' || h.status === 'drifted') || summary.stopped) return EXIT.hostFailed;
  // An incomplete plan never passes for "nothing pending" (or for "only these changes").
  if (uncheckedHosts(summary).length > 0) return EXIT.hostFailed;
  if (options.mode === 'plan' && options.exitCode && summary.changes > 0) return EXIT.changesPending;
  return EXIT.ok;
}

// `--vault-password-file` is a global option: main records it once for every command that loads an inventory.
let vaultPasswordFile: string | undefined;
export function useVaultPasswordFile(file: string | undefined): void {
  vaultPasswordFile = file;
}

export async function loadInventoryFor(name: string): Promise<Inventory> {
  const path = await resolveInventoryPath(name);
  // Lazy: the password is only looked for when an encrypted vault file is met.
  const siblingPasswordFile = /\.(ya?ml|ini)$/.test(path) ? path.replace(/\.(ya?ml|ini)$/, '.vault-password') : undefined;
  const password = lazyPassword({
    ...(vaultPasswordFile ? { passwordFile: vaultPasswordFile } : {}),
    ...(siblingPasswordFile ? { siblingPasswordFile } : {}),
    inventoryDir: await inventoryDirOf(path),
  });
  // File names are shown, never obeyed: a control character in one is escaped.
  const warn = (message: string) => process.stderr.write(`warning: ${terminalLine(message)}\n`);
  const inventory = await openInventory(path, { decrypt: vaultDecryptHook({ password, warn }), warn });
  refuseShortSecrets(inventory);
  return inventory;
}

export async function runCommand(options: RunCommandOptions): Promise<number> {
  // Filled once the inventory is read; the CLI prints errors without knowing any secret, and
  // messages quote values (a template's JavaScript error, an argument check): masked here.
  const redactor = new Redactor();
  const reporter = makeReporter(options, redactor);
  // Listening from the start: an interrupt at any moment takes the careful path.
  const interrupts = interruptController((m) => process.stderr.write(`${m}\n`), reporter);
  try {
    return await runCommandWith(options, interrupts, redactor, reporter);
  } catch (error) {
    if (!(error instanceof RunInterrupted)) throw redactError(error, redactor);
    process.stderr.write(`${error.message}\n`);
    reporter.interruptedBeforeContact?.(error.message);
    return EXIT.interrupted;
  } finally {
    interrupts.dispose();
  }
}

async function runCommandWith(options: RunCommandOptions, interrupts: Interrupts, redactor: Redactor, shownReporter: Reporter): Promise<number> {
  let reporter = shownReporter;
  const { signal } = interrupts;
  const inventory = await loadInventoryFor(options.inventory);
  // Masked before the playbook is read: its errors may quote a value that is a secret.
  redactor.add(secretValues(inventory));
  await useProjectModules(options.playbook);
  const playbook = await loadPlaybook(options.playbook, { knownModules: new Set(knownModuleNames) });
  let inputs = runInputs(inventory, options, redactor);
  // --shard: this controller's hosts only; the play checks below still see every shard's.
  const sharded = options.shard ? shardInputs(inventory, playbook.plays, inputs, options.shard) : undefined;
  if (sharded) {
    inputs = sharded.inputs;
    reporter = shardReporter(reporter, options.shard!, shardLine(options.shard!, sharded.hosts.size, sharded.total));
  }
  const inventoryPath = await resolveInventoryPath(options.inventory);
  if (options.resume) {
    // Only the hosts the last apply left unfinished, among those --limit keeps (resume-option.ts).
    const targeted = [...new Set(playbook.plays.flatMap(inputs.hostsForPlay))];
    const say = (line: string) => process.stderr.write(`${terminalLine(line)}\n`);
    const chosen = (await chooseResumeHosts(inventoryPath, options.playbook, { playbook: options.playbook, inventory: options.inventory }, targeted, options.limit, say)).hosts;
    if (chosen.size === 0) return EXIT.ok;
    const limited = inputs.hostsForPlay;
    inputs = { ...inputs, hostsForPlay: (play) => limited(play).filter((h) => chosen.has(h)) };
  }
  if (options.savedPlan) {
    // A saved plan applies to the hosts it names (plan --resume may have named fewer than --limit).
    const planned = new Set(Object.keys(options.savedPlan.plan.hosts));
    const limited = inputs.hostsForPlay;
    inputs = { ...inputs, hostsForPlay: (play) => limited(play).filter((h) => planned.has(h)) };
  }
  const { byName, hostsForPlay, varsFor, selected, prepare } = inputs;
  const connectionCache = new Map<string, ConnectionSettings>();
  const settingsFor = (name: string): ConnectionSettings => {
    let settings = connectionCache.get(name);
    if (!settings) {
      const host = byName.get(name)!;
      const vars = hostVars(inventory, host, { extraVars: options.extraVars });
      settings = connectionSettings(host, vars, inventory.secretVarNames, options, settingsFor);
      if (settings.becomePassword) redactor.add([settings.becomePassword]);
      connectionCache.set(name, settings);
    }
    return settings;
  };

  // Bad input stops here, before any connection: plays without hosts, unusable key files.
  await checkBeforeConnecting({ plays: playbook.plays, hostsForPlay: sharded?.everyShard ?? hostsForPlay, limit: options.limit, hosts: inventory.hosts, tags: options.tags, skipTags: options.skipTags, ...(sharded ? { contacted: sharded.hosts } : {}) });

  // A large inventory holds a socket per host: room for them before the first connection.
  ensureFdLimit(sharded?.hosts.size ?? inventory.hosts.length, options.verbosity > 0 ? sayOnStderr : undefined);
  // Saved plans, confirmation: the flow runs the playbook once or twice (plan, then apply).
  const history = options.mode === 'apply' ? await historyContext(options.playbook, redactor) : undefined;
  const run = async (mode: RunMode, extra: Pick<Parameters<typeof runPlaybook>[0], 'ledgerFor' | 'beforeConnect'>) => {
  const summary = await runPlaybook({
    mode,
    ...extra,
    playbook,
    inventoryName: options.inventory,
    hostsForPlay,
    varsFor,
    batchesFor: (play, hosts) => computeBatches(hosts, play.serial),
    selected,
    prepare,
    transportFor: (name) => {
      interrupts.contacted = true;
      // Leased from the jump pool: a host that is also a jump host keeps one connection for both.
      return notifyOnConnect(sharedJumpPool().lease(settingsFor(name)), () => reporter.hostConnected(name));
    },
    loginIsRoot: (name) => byName.get(name)!.user === 'root',
    forks: options.forks,
    reporter,
    hostsOfGroup: (group) => selectHosts(inventory, group, { label: 'rolling drain_from' }).map((h) => h.name),
    allHostsForPlay: (play) => selectHosts(inventory, play.hosts, { where: play.hostsWhere }).map((h) => h.name),
    signal,
    drainedNow: interrupts.drainedNow,
    // Where the run lock lives on the hosts; tests that run many "hosts" on one machine set it.
    ...(process.env['FOOBAR_PROVISION_LOCK_DIR'] ? { lockDir: process.env['FOOBAR_PROVISION_LOCK_DIR'] } : {}),
    ...(options.lockWaitMs ? { lockWaitMs: options.lockWaitMs } : {}),
    ...(mode === 'apply' && history ? { history } : {}),
  });
  if (mode === 'apply') await recordApply(inventoryPath, options.playbook, summary, (line) => process.stderr.write(`warning: ${terminalLine(line)}\n`));
  return summary;
  };
  const secrets = [...secretValues(inventory), ...[...inventory.secretVarNames].filter((n) => n in options.extraVars).map((n) => options.extraVars[n])];
  return runFlow({ options, secrets, redactor, playNames: new Set(playbook.plays.map((p) => p.name)), run, exitCodeFor, say: sayOnStderr, signal });
}

const STOP_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

interface Interrupts {
  signal: AbortSignal;
  /** Set once the run opens its first connection: from then on an interrupt takes the careful path. */
  contacted: boolean;
  /** Hosts the run has drained right now, and where (kept by the runner). */
  drainedNow: Map<string, string[]>;
  dispose(): void;
}

/**
 * Before any connection, an interrupt exits at once (nothing was touched). After: the first
 * SIGINT/SIGTERM/SIGHUP lets the step in progress on each host finish and starts nothing new; a second
 * one exits at once, saying loudly which servers it leaves drained.
 */
/** How long the first interrupt waits for the steps in progress before stopping at once: a
 *  step that never ends (a hung or hostile host, with no command_timeout) must not make Ctrl-C
 *  a no-op. `FOOBAR_PROVISION_INTERRUPT_GRACE` (seconds) overrides it. */
export function interruptGraceMs(env: NodeJS.ProcessEnv = process.env): number {
  const text = env['FOOBAR_PROVISION_INTERRUPT_GRACE'];
  const seconds = text !== undefined && /^\d+(\.\d+)?$/.test(text.trim()) ? Number(text) : 300;
  return Math.min(seconds, 7 * 24 * 3600) * 1000;
}

function interruptController(say: (message: string) => void, lastWords: Pick<Reporter, 'interruptedBeforeContact' | 'forcedExit'>): Interrupts {
  const controller = runAbortController();
  let grace: NodeJS.Timeout | undefined;
  const stopNow = (why: string) => {
    say(`${why}: stopping at once; the steps in progress may be cut short (their result on the host is unknown)`);
    for (const [host, lbs] of state.drainedNow) {
      say(`WARNING: ${host} is left DRAINED on ${lbs.join(', ')}; the next apply puts it back once healthy`);
    }
    lastWords.forcedExit?.(`${why}: stopping at once; the steps in progress may be cut short`, state.drainedNow);
    process.exit(EXIT.interrupted);
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (!state.contacted) {
      say(`${signal}: stopped before any host was contacted; nothing was changed`);
      lastWords.interruptedBeforeContact?.(`${signal}: stopped before any host was contacted; nothing was changed`);
      process.exit(EXIT.interrupted);
    }
    if (controller.signal.aborted) stopNow(signal);
    const graceMs = interruptGraceMs();
    say(`${signal}: finishing the step in progress on each host (at most ${Math.round(graceMs / 1000)} s), then stopping (again to stop at once)`);
    controller.abort();
    grace = setTimeout(() => stopNow(`the steps in progress did not finish within ${Math.round(graceMs / 1000)} s of the interrupt`), graceMs);
    grace.unref();
  };
  // SIGHUP (the terminal closed) is an operator leaving: the same careful stop, never a step cut
  // in half by the default action.
  for (const name of STOP_SIGNALS) process.on(name, onSignal);
  const state: Interrupts = {
    signal: controller.signal,
    contacted: false,
    drainedNow: new Map(),
    dispose: () => {
      if (grace) clearTimeout(grace);
      for (const name of STOP_SIGNALS) process.off(name, onSignal);
    },
  };
  return state;
}
