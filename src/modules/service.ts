// service: a systemd unit started/stopped/restarted/reloaded and enabled or not, in one step.
import type { HostFacts, ServiceFact } from '../facts/types.js';
import { shellQuote } from '../shell/quote.js';
import { isUnrendered, ModuleArgs } from './args.js';
import { SERVICE_DOC } from './service-doc.js';
import { assumeDaemonReloaded, daemonReloadDue } from './systemd-units.js';
import { docArgNames, type ModuleDefinition } from './types.js';

export const SERVICE_STATES = ['started', 'stopped', 'restarted', 'reloaded'] as const;
export type ServiceState = (typeof SERVICE_STATES)[number];

export interface ServiceArgs {
  name: string;
  state?: ServiceState;
  enabled?: boolean;
  /** mask (true) or unmask (false): a masked unit cannot be started, not even by hand. */
  masked?: boolean;
  daemonReload: boolean;
}

/** Not a systemd state: the unit was unmasked in this run and its enablement is not known. */
const UNMASKED = 'unmasked (enablement unknown)';

/** Active, or on its way there: starting it again would do nothing. */
const RUNNING = new Set(['active', 'activating', 'reloading']);
/** Unit file states in which the unit starts at boot, or cannot be enabled at all. */
const ENABLED = new Set(['enabled', 'enabled-runtime', 'alias', 'static', 'indirect', 'generated']);

export const serviceModule: ModuleDefinition<ServiceArgs> = {
  name: 'service',
  exactAssume: true,
  summary: 'Start, stop, restart or reload a systemd unit, enable or disable it at boot, mask or unmask it.',
  doc: SERVICE_DOC,
  validate(raw, where) {
    const args = ModuleArgs.read('service', raw, where, docArgNames(SERVICE_DOC));
    const name = args.requiredString('name');
    if (!isUnrendered(name) && (/\s/.test(name) || name.startsWith('-'))) {
      throw args.error('name', `"${name}" is not a systemd unit name`, 'e.g. nginx or nginx.service');
    }
    const result: ServiceArgs = { name, daemonReload: args.boolean('daemon_reload') ?? false };
    const state = args.oneOf('state', SERVICE_STATES);
    const enabled = args.boolean('enabled');
    const masked = args.boolean('masked');
    if (state !== undefined) result.state = state;
    if (enabled !== undefined) result.enabled = enabled;
    if (masked !== undefined) result.masked = masked;
    if (masked === true && state !== undefined && state !== 'stopped') {
      throw args.error('masked', `a masked unit cannot be ${state}`, 'use state: stopped with masked: true, or masked: false to start it');
    }
    if (masked === true && enabled === true) throw args.error('masked', 'a masked unit cannot be enabled', 'give enabled: false (or leave it out) with masked: true');
    if (!args.has('state') && !args.has('enabled') && !args.has('masked') && !result.daemonReload) {
      throw args.error(undefined, 'nothing to do: give "state", "enabled", "masked" or "daemon_reload"', 'e.g. state: started, enabled: true');
    }
    return result;
  },
  resolve: (args) => args,
  queries: (args) => [{ kind: 'service', unit: args.name }],
  plan(args, facts, ctx) {
    const fact = facts.services.get(args.name);
    if (!fact || fact.loadState === 'unknown') {
      return { status: 'failed', reason: `could not read the state of ${args.name} from systemd (is systemd running on the host?)` };
    }
    // daemon_reload: true reloads before any other action, but alone it changes nothing when
    // systemd says its configuration is current, so a second run stays at zero changes. A unit
    // file changed earlier in this run also makes the next action reload first (systemd-units.ts).
    const reload = fact.needDaemonReload;
    const reloadBeforeActing = daemonReloadDue(facts, fact) || args.daemonReload;
    const isMasked = fact.loadState === 'masked' || fact.unitFileState === 'masked';
    // A unit file written earlier in this run is unknown to systemd until the daemon-reload; a
    // unit that does not exist can still be masked (so a package's unit never starts).
    if (fact.loadState === 'not-found' && args.masked === false && args.state === undefined && args.enabled === undefined) {
      return { status: 'ok', reason: `${args.name} is not masked (no such unit)` };
    }
    if (fact.loadState === 'not-found' && !reloadBeforeActing && args.masked !== true) return { status: 'failed', reason: `unit ${args.name} not found (LoadState=not-found)` };
    const willUnmask = isMasked && args.masked === false;
    if (isMasked && !willUnmask) {
      if (args.state === 'started' || args.state === 'restarted' || args.state === 'reloaded' || args.enabled === true) {
        return { status: 'failed', reason: `unit ${args.name} is masked, so it cannot be ${args.enabled === true ? 'enabled' : args.state}; unmask it first (masked: false)` };
      }
    }
    const unknownYet = fact.loadState === 'not-found';
    const running = !unknownYet && RUNNING.has(fact.activeState);
    // After an unmask, systemd's enablement of the unit is not known in advance: act as asked.
    const enablementUnknown = willUnmask || fact.unitFileState === UNMASKED;
    const enabled = !unknownYet && !enablementUnknown && ENABLED.has(fact.unitFileState);
    const unit = shellQuote(args.name);
    const commands: string[] = [];
    const actions: string[] = [];
    const act = (verb: string): void => {
      commands.push(`systemctl ${verb} ${unit}`);
      actions.push(`${verb} ${args.name}`);
    };
    // A unit that failed (often: restarted too often while unconfigured) may have hit its start
    // limit; systemd refuses to start it until its failed state is cleared.
    const clearFailed = (): void => {
      if (fact.activeState === 'failed') commands.push(`systemctl reset-failed ${unit}`);
    };
    if (willUnmask) act('unmask');
    if (args.state === 'started' && !running) {
      clearFailed();
      act('start');
    }
    if (args.state === 'restarted' || args.state === 'reloaded') clearFailed();
    if (args.state === 'stopped' && running) act('stop');
    if (args.state === 'restarted') act('restart');
    // Reloading a stopped service fails; starting it loads the new configuration anyway.
    if (args.state === 'reloaded') act(running ? 'reload' : 'start');
    if (args.enabled === true && !enabled) act('enable');
    if (args.enabled === false && (enabled || enablementUnknown) && fact.unitFileState !== 'static') act('disable');
    if (args.masked === true && !isMasked) act('mask');

    if (reload || (reloadBeforeActing && commands.length > 0)) {
      commands.unshift('systemctl daemon-reload');
      actions.unshift('daemon-reload');
    }
    if (commands.length === 0) return { status: 'ok', reason: okReason(args, fact) };
    const summary = actions.join(', ');
    const reloads = commands[0] === 'systemctl daemon-reload';
    return {
      status: 'changed',
      summary,
      steps: [{ command: commands.join(' && '), become: ctx.become, description: summary }],
      assume(cache: HostFacts) {
        if (reloads) assumeDaemonReloaded(cache);
        const base = cache.services.get(args.name) ?? fact;
        const after: ServiceFact = { ...base, loadState: 'loaded', needDaemonReload: false };
        if (args.state === 'started' || args.state === 'restarted' || args.state === 'reloaded') after.activeState = 'active';
        if (args.state === 'stopped') after.activeState = 'inactive';
        if (args.enabled === true && !enabled) after.unitFileState = 'enabled';
        if (args.enabled === false && (enabled || enablementUnknown) && fact.unitFileState !== 'static') after.unitFileState = 'disabled';
        // Unmasked, enablement not asked for: systemd's to tell; a later enabled: asks it again.
        if (willUnmask && args.enabled === undefined) after.unitFileState = UNMASKED;
        if (args.masked === true) Object.assign(after, { loadState: 'masked', unitFileState: 'masked' });
        cache.services.set(args.name, after);
      },
    };
  },
};

/** "nginx is active and enabled" */
function okReason(args: ServiceArgs, fact: ServiceFact): string {
  const words: string[] = [];
  if (args.state !== undefined) words.push(fact.activeState);
  if (args.enabled !== undefined || args.masked !== undefined) words.push(fact.unitFileState || (args.enabled ? 'enabled' : 'disabled'));
  return words.length === 0 ? `${args.name}: nothing to do` : `${args.name} is ${words.join(' and ')}`;
}
