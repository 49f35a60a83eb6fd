// service: a systemd unit started/stopped/restarted/reloaded and enabled or not, in one step.
import type { ServiceFact } from '../facts/types.js';
import { shellQuote } from '../shell/quote.js';
import { isUnrendered, ModuleArgs } from './args.js';
import { docArgNames, type ModuleDefinition } from './types.js';
import { serviceDoc } from './service-doc.js';

export const SERVICE_STATES = ['started', 'stopped', 'restarted', 'reloaded'] as const;
export type ServiceState = (typeof SERVICE_STATES)[number];

export interface ServiceArgs {
  name: string;
  state?: ServiceState;
  enabled?: boolean;
  daemonReload: boolean;
}

/** Active, or on its way there: starting it again would do nothing. */
const RUNNING = new Set(['active', 'activating', 'reloading']);
/** Unit file states in which the unit starts at boot, or cannot be enabled at all. */
const ENABLED = new Set(['enabled', 'enabled-runtime', 'alias', 'static', 'indirect', 'generated']);

export const serviceModule: ModuleDefinition<ServiceArgs> = {
  name: 'service',
  doc: serviceDoc,
  exactAssume: true,
  summary: 'Start, stop, restart or reload a systemd unit and enable or disable it at boot.',
  validate(raw, where) {
    const args = ModuleArgs.read('service', raw, where, docArgNames(serviceDoc));
    const name = args.requiredString('name');
    if (!isUnrendered(name) && (/\s/.test(name) || name.startsWith('-'))) {
      throw args.error('name', `"${name}" is not a systemd unit name`, 'e.g. nginx or nginx.service');
    }
    const result: ServiceArgs = { name, daemonReload: args.boolean('daemon_reload') ?? false };
    const state = args.oneOf('state', SERVICE_STATES);
    const enabled = args.boolean('enabled');
    if (state !== undefined) result.state = state;
    if (enabled !== undefined) result.enabled = enabled;
    if (!args.has('state') && !args.has('enabled') && !result.daemonReload) {
      throw args.error(undefined, 'nothing to do: give "state", "enabled" or "daemon_reload"', 'e.g. state: started, enabled: true');
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
    // systemd says its configuration is current, so a second run stays at zero changes.
    const reload = fact.needDaemonReload;
    // A unit file written earlier in this run is unknown to systemd until the daemon-reload.
    if (fact.loadState === 'not-found' && !reload && !args.daemonReload) return { status: 'failed', reason: `unit ${args.name} not found (LoadState=not-found)` };
    if (fact.loadState === 'masked' || fact.unitFileState === 'masked') {
      if (args.state === 'started' || args.state === 'restarted' || args.state === 'reloaded' || args.enabled === true) {
        return { status: 'failed', reason: `unit ${args.name} is masked; unmask it first (systemctl unmask ${args.name})` };
      }
    }
    const unknownYet = fact.loadState === 'not-found';
    const running = !unknownYet && RUNNING.has(fact.activeState);
    const enabled = !unknownYet && ENABLED.has(fact.unitFileState);
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
    if (args.enabled === false && enabled && fact.unitFileState !== 'static') act('disable');

    if (reload || (args.daemonReload && commands.length > 0)) {
      commands.unshift('systemctl daemon-reload');
      actions.unshift('daemon-reload');
    }
    if (commands.length === 0) return { status: 'ok', reason: okReason(args, fact) };
    const summary = actions.join(', ');
    return {
      status: 'changed',
      summary,
      steps: [{ command: commands.join(' && '), become: ctx.become, description: summary }],
      assume(cache) {
        const after: ServiceFact = { ...fact, loadState: 'loaded', needDaemonReload: false };
        if (args.state === 'started' || args.state === 'restarted' || args.state === 'reloaded') after.activeState = 'active';
        if (args.state === 'stopped') after.activeState = 'inactive';
        if (args.enabled === true && !enabled) after.unitFileState = 'enabled';
        if (args.enabled === false && enabled && fact.unitFileState !== 'static') after.unitFileState = 'disabled';
        cache.services.set(args.name, after);
      },
    };
  },
};

/** "nginx is active and enabled" */
function okReason(args: ServiceArgs, fact: ServiceFact): string {
  const words: string[] = [];
  if (args.state !== undefined) words.push(fact.activeState);
  if (args.enabled !== undefined) words.push(fact.unitFileState || (args.enabled ? 'enabled' : 'disabled'));
  return words.length === 0 ? `${args.name}: nothing to do` : `${args.name} is ${words.join(' and ')}`;
}
