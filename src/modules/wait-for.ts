// wait_for: a port open or closed, a path present or absent. The condition is checked once in the
// probe: when it holds, the task is ok at no cost; otherwise one step polls on the host until the
// deadline, so the wait itself costs one round trip whatever its length.
import type { HostFacts } from '../facts/types.js';
import { shellQuote } from '../shell/quote.js';
import { isUnrendered, ModuleArgs } from './args.js';
import { docArgNames, type ModuleDefinition, type ModuleDoc } from './types.js';

export type WaitState = 'started' | 'stopped' | 'present' | 'absent';

export interface WaitForArgs {
  host: string;
  port?: number;
  path?: string;
  state: WaitState;
  timeout: number;
  delay: number;
  sleep: number;
  connectTimeout: number;
}

export const waitForDoc: ModuleDoc = {
  args: [
    { name: 'host', type: 'string', default: '127.0.0.1', description: 'Where the port is, as seen from the managed host (a name or an address).' },
    { name: 'port', type: 'integer', description: 'A TCP port to wait for (give port or path).' },
    { name: 'path', type: 'path', description: 'A path to wait for (give port or path).' },
    { name: 'state', type: 'started | stopped | present | absent', default: 'started (port), present (path)', description: 'started: the port accepts connections; stopped: it refuses them; present / absent: the path exists or not.' },
    { name: 'timeout', type: 'integer', default: '300', description: 'Seconds to wait before the task fails.' },
    { name: 'delay', type: 'integer', default: '0', description: 'Seconds to sleep before the first poll, when the probe found the condition not yet met.' },
    { name: 'sleep', type: 'integer', default: '1', description: 'Seconds between polls.' },
    { name: 'connect_timeout', type: 'integer', default: '5', description: 'Seconds one connection attempt may take.' },
  ],
  example: [
    '- name: the app answers',
    '  wait_for:',
    '    port: 8080',
    '    timeout: 60',
  ].join('\n'),
  notes: [
    'When the condition already holds at the probe, the task is ok with no extra round trip (delay is not applied); otherwise one command polls on the host until the deadline and the task is ok (never changed) when the condition is met.',
    'A path is a file fact: a file an earlier task of the run writes counts as present, in plan too.',
    'Ports are checked from the managed host with bash\'s /dev/tcp under timeout(1), both part of Debian\'s essential packages.',
  ],
};

const HOST = /^[A-Za-z0-9_.:-]+$/;

function integer(args: ModuleArgs, key: string, fallback: number, min: number, max: number): number {
  const value = args.value(key);
  if (value === undefined || isUnrendered(value)) return fallback;
  const number = typeof value === 'number' ? value : typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(number) || number < min || number > max) {
    throw args.error(key, `"${key}" must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return number;
}

/** "port 8080 on 127.0.0.1 to open", "/run/app.ready to exist": what the task waits for, in words. */
export function waitWords(args: WaitForArgs): string {
  if (args.path !== undefined) return `${args.path} to ${args.state === 'absent' ? 'be gone' : 'exist'}`;
  return `port ${args.port} on ${args.host} to ${args.state === 'stopped' ? 'close' : 'open'}`;
}

/** "port 8080 on 127.0.0.1 is open": the condition, met. */
export function heldWords(args: WaitForArgs): string {
  if (args.path !== undefined) return `${args.path} ${args.state === 'absent' ? 'is absent' : 'exists'}`;
  return `port ${args.port} on ${args.host} is ${args.state === 'stopped' ? 'closed' : 'open'}`;
}

/** One attempt, exit status 0 when the condition holds; output discarded by the caller. */
export function conditionCommand(args: WaitForArgs): string {
  if (args.path !== undefined) {
    const test = `test -e ${shellQuote(args.path)}`;
    return args.state === 'absent' ? `! ${test}` : test;
  }
  // bash opens the connection; the host and port arrive as arguments, never as script text.
  const connect = `timeout ${args.connectTimeout} bash -c 'exec 3<>"/dev/tcp/$1/$2"' wait_for ${shellQuote(args.host)} ${args.port}`;
  return args.state === 'stopped' ? `! ${connect}` : connect;
}

/** The step that polls until the condition holds or the deadline passes. */
export function pollScript(args: WaitForArgs): string {
  const failure = `wait_for: timed out after ${args.timeout} s waiting for ${waitWords(args)}`;
  return [
    ...(args.delay > 0 ? [`sleep ${args.delay}`] : []),
    `fbp_end=$(( $(date +%s) + ${args.timeout} ))`,
    'while :; do',
    `  if ${conditionCommand(args)} >/dev/null 2>&1; then exit 0; fi`,
    '  fbp_left=$(( fbp_end - $(date +%s) ))',
    '  [ "$fbp_left" -le 0 ] && break',
    `  if [ "$fbp_left" -lt ${args.sleep} ]; then sleep "$fbp_left"; else sleep ${args.sleep}; fi`,
    'done',
    `printf '%s\\n' ${shellQuote(failure)} >&2`,
    'exit 1',
  ].join('\n');
}

export const checkId = (args: WaitForArgs): string => `wait_for ${conditionCommand(args)}`;

export const waitForModule: ModuleDefinition<WaitForArgs> = {
  name: 'wait_for',
  exactAssume: true,
  summary: 'Wait for a TCP port to open or close, or a path to appear or go.',
  doc: waitForDoc,
  validate(raw, where) {
    const args = ModuleArgs.read('wait_for', raw, where, docArgNames(waitForDoc));
    const host = args.string('host') ?? '127.0.0.1';
    if (!isUnrendered(host) && (!HOST.test(host) || host.startsWith('-'))) throw args.error('host', `"${host}" is not a host name or address`, 'e.g. 127.0.0.1, db1 or db1.example.com');
    const path = args.path('path');
    const hasPort = args.has('port');
    if (hasPort && path !== undefined) throw args.error('path', 'give either "port" or "path", not both');
    if (!hasPort && path === undefined) throw args.error(undefined, 'missing "port" or "path": what to wait for', 'e.g. port: 8080, or path: /run/app.ready');
    const state = args.oneOf('state', ['started', 'stopped', 'present', 'absent'] as const) ?? (hasPort ? 'started' : 'present');
    if (hasPort && (state === 'present' || state === 'absent')) throw args.error('state', `state ${state} is for a path; a port is started (open) or stopped (closed)`);
    if (path !== undefined && (state === 'started' || state === 'stopped')) throw args.error('state', `state ${state} is for a port; a path is present or absent`);
    if (args.has('host') && !hasPort) throw args.error('host', '"host" goes with "port"');
    const result: WaitForArgs = {
      host,
      state,
      timeout: integer(args, 'timeout', 300, 1, 86400),
      delay: integer(args, 'delay', 0, 0, 86400),
      sleep: integer(args, 'sleep', 1, 1, 3600),
      connectTimeout: integer(args, 'connect_timeout', 5, 1, 3600),
    };
    if (hasPort) result.port = integer(args, 'port', 0, 1, 65535);
    if (path !== undefined) result.path = path;
    return result;
  },
  resolve: (args) => args,
  // A path is a file fact, which earlier tasks of the run keep current (a file a task writes
  // exists for the tasks after it, in plan as in apply); a port can only be tried.
  queries: (args) => (args.path !== undefined ? [{ kind: 'file', path: args.path }] : [{ kind: 'check', id: checkId(args), command: conditionCommand(args) }]),
  plan(args, facts, ctx) {
    if (args.path !== undefined) {
      const fact = facts.files.get(args.path);
      if (fact === undefined) return { status: 'failed', reason: `no facts gathered for ${args.path}` };
      if (fact.exists === (args.state === 'present')) return { status: 'ok', reason: heldWords(args) };
    } else {
      const status = facts.checks.get(checkId(args));
      if (status === undefined) return { status: 'failed', reason: `no facts gathered for ${waitWords(args)}` };
      if (status === 0) return { status: 'ok', reason: `${heldWords(args)} (checked in the probe)` };
    }
    return {
      status: 'changed',
      summary: `wait up to ${args.timeout} s for ${waitWords(args)}`,
      steps: [{ command: pollScript(args), become: ctx.become, description: `wait for ${waitWords(args)}` }],
      // What appeared at a path is unknown (a file? a socket?): no prediction, so the tasks after a
      // wait look at the host again.
      ...(args.path === undefined ? { assume: (cache: HostFacts) => void cache.checks.set(checkId(args), 0) } : {}),
    };
  },
  // Waiting changes nothing on the host: met is ok, the deadline is a failure naming what was awaited.
  interpret(args, results) {
    const last = results[results.length - 1];
    if (last?.code === 0) return { changed: false, reason: `${heldWords(args)} (waited for it)` };
    const said = last?.stderr.trim().split('\n').pop();
    return { changed: false, failed: said?.startsWith('wait_for:') ? said : `wait_for: ${waitWords(args)} failed: ${said || `exit ${last?.code ?? '?'}`}` };
  },
};
