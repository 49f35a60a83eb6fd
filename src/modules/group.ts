// group: a local group with an optional fixed gid, or no such group. Facts from `getent group`,
// in the play's probe.
import { formatGroups, type GroupEntry } from '../facts/accounts.js';
import { shellQuote } from '../shell/quote.js';
import { accountId, accountName } from './account-args.js';
import { GROUPS_QUERY_ID, groupsQuery, readGroups } from './account-facts.js';
import { ModuleArgs } from './args.js';
import { docArgNames, type ModuleDefinition, type ModuleDoc } from './types.js';

export interface GroupArgs {
  name: string;
  gid?: number;
  system: boolean;
  state: 'present' | 'absent';
}

const doc: ModuleDoc = {
  args: [
    { name: 'name', type: 'string', required: true, description: 'The group name (letters, digits, "_", ".", "-"; 32 characters at most).' },
    { name: 'state', type: 'present | absent', default: 'present', description: 'Whether the group exists. absent runs groupdel, which refuses a group that is some user\'s primary group.' },
    { name: 'gid', type: 'integer', description: 'The group id. An existing group with another gid is changed with groupmod -g (files keep their old gid).' },
    { name: 'system', type: 'boolean', default: 'false', description: 'Create a system group (gid from the system range). Only used when the group is created.' },
  ],
  example: ['- name: deploy group', '  group:', '    name: deployers', '    gid: 2001'].join('\n'),
  notes: ['Local groups only (groupadd/groupmod/groupdel); the host needs root for a change, so give the task become: true.'],
};

export const groupModule: ModuleDefinition<GroupArgs> = {
  name: 'group',
  summary: 'A local group with an optional gid, or no such group.',
  doc,
  validate(raw, where) {
    const args = ModuleArgs.read('group', raw, where, docArgNames(doc));
    const result: GroupArgs = {
      name: accountName(args, 'name', 'group'),
      system: args.boolean('system') ?? false,
      state: args.oneOf('state', ['present', 'absent'] as const) ?? 'present',
    };
    const gid = accountId(args, 'gid');
    if (gid !== undefined) result.gid = gid;
    return result;
  },
  resolve: (args) => args,
  queries: () => [groupsQuery()],
  plan(args, facts, ctx) {
    const read = readGroups(facts);
    if ('failed' in read) return { status: 'failed', reason: read.failed };
    const groups = read.value;
    const current = groups.find((g) => g.name === args.name);
    const name = shellQuote(args.name);
    const predict = (next: GroupEntry[]) => (cache: typeof facts) => cache.outputs.set(GROUPS_QUERY_ID, { code: 0, output: formatGroups(next) });
    if (args.state === 'absent') {
      if (!current) return { status: 'ok', reason: `group ${args.name} does not exist` };
      const summary = `remove group ${args.name}`;
      return { status: 'changed', summary, steps: [{ command: `groupdel ${name}`, become: ctx.become, description: summary }], assume: predict(groups.filter((g) => g !== current)) };
    }
    if (!current) {
      const taken = args.gid === undefined ? undefined : groups.find((g) => g.gid === args.gid);
      if (taken) return { status: 'failed', reason: `gid ${args.gid} is already group ${taken.name}'s` };
      const options = [...(args.gid === undefined ? [] : [`-g ${args.gid}`]), ...(args.system ? ['-r'] : [])];
      const summary = `create group ${args.name}${args.gid === undefined ? '' : ` (gid ${args.gid})`}${args.system ? ' (system)' : ''}`;
      const created: GroupEntry = { name: args.name, members: [], ...(args.gid === undefined ? {} : { gid: args.gid }) };
      return { status: 'changed', summary, steps: [{ command: ['groupadd', ...options, name].join(' '), become: ctx.become, description: summary }], assume: predict([...groups, created]) };
    }
    if (args.gid !== undefined && current.gid !== args.gid) {
      const taken = groups.find((g) => g.gid === args.gid);
      if (taken) return { status: 'failed', reason: `gid ${args.gid} is already group ${taken.name}'s` };
      const summary = `group ${args.name}: gid ${current.gid ?? '?'} -> ${args.gid}`;
      const next = groups.map((g) => (g === current ? { ...g, gid: args.gid } : g));
      return { status: 'changed', summary, steps: [{ command: `groupmod -g ${args.gid} ${name}`, become: ctx.become, description: summary }], assume: predict(next) };
    }
    return { status: 'ok', reason: `group ${args.name} exists${args.gid === undefined ? '' : ` with gid ${args.gid}`}` };
  },
};
