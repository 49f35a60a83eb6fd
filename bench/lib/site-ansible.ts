// The Ansible side of the site.yml benchmark: an Ansible playbook that checks the same state as
// our playbooks/site.yml on the same hosts. It is generated from our own resolved tasks (the
// engine under test loads the inventory with its vault, builds each host's variables, renders
// templates and resolves every task's arguments per host), not hand-ported from the EJS roles,
// so both tools check exactly the same files, services, packages, firewall and database state.
//
// Shape: one Ansible play per play of ours (same hosts, become, strategy); one Ansible task per
// task of ours (a few of ours become two or three, see `slotsOf`), each a real module call per
// host and loop item, with that host's arguments as a list in its host variables
// (`loop: "{{ site_3_2_main | default([]) }}"`). A host a task skips (our `when`) has no list.
// Rendered files are written to local files and shipped with `copy: src:`.
//
// Everything this writes holds vault values: it stays under the bench's output directory
// (git-ignored), files are 0600, and the playbook's tasks name no secret.

import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { stringify } from 'yaml';
import { LAB_KEY, writeAnsibleConfig, type BenchFiles } from './inventory.js';
import { fetchDebs, installDebs } from './prereqs.js';
import { runAnsible, type Kind, type Paths, type RunResult } from './tools.js';


// Types only: at run time the modules come from the engine build under test (bench/lib/engine.ts),
// not from src/, which other sessions edit.
type EngineCli = typeof import('../../src/cli/engine.js');
type ConfigPlaybook = typeof import('../../src/config/playbook.js');
type InventoryApi = typeof import('../../src/inventory/index.js');
type Registry = typeof import('../../src/modules/registry.js');
type PrepareApi = typeof import('../../src/run/prepare.js');
type TaskConfig = import('../../src/config/types.js').TaskConfig;
type FileWrite = import('../../src/modules/file-write.js').FileWrite;
type FileArgs = import('../../src/modules/file.js').FileArgs;
type ServiceArgs = import('../../src/modules/service.js').ServiceArgs;
type AptArgs = import('../../src/modules/apt.js').AptArgs;
type UfwArgs = import('../../src/modules/ufw.js').UfwArgs;
type CommandArgs = import('../../src/modules/command.js').CommandArgs;
type MysqlDbArgs = import('../../src/modules/mysql-db.js').MysqlDbArgs;
type MysqlUserArgs = import('../../src/modules/mysql-user.js').MysqlUserArgs;
type MysqlReplicationArgs = import('../../src/modules/mysql-replication.js').MysqlReplicationArgs;

/** MariaDB's socket on Debian; the mysql modules log in through it as root (unix_socket auth). */
const MYSQL_SOCKET = '/run/mysqld/mysqld.sock';

type Args = Record<string, unknown>;

/** One Ansible task made from one task of ours. */
interface Slot {
  /** Suffix of the Ansible task name (empty: the task's own name). */
  suffix: string;
  module: string;
  /** Host variable holding this slot's items; slots of one task may share it. */
  loopVar: string;
  register?: string;
  when?: string;
  changedWhen?: boolean | string;
  failedWhen?: boolean;
  /** Read the arguments from this key of the first slot's items (a slot without items of its own). */
  from?: string;
}

interface Item {
  /** Label shown by Ansible instead of the item (the item may hold a password). */
  l: string;
  a: Args;
}

/** What one task of ours became, for RESULTS.md. */
export interface TaskMapping {
  ours: string;
  ansible: string;
  /** Module calls per no-op run, over all hosts (loop items; conditional slots not counted). */
  calls: number;
  note?: string;
}

export interface SiteAnsible {
  playbook: string;
  inventory: string;
  config: string;
  /** Hosts with community.mysql tasks: they need python3-pymysql. */
  mysqlHosts: string[];
  tasks: number;
  mapping: TaskMapping[];
  approximations: string[];
}

async function engineModule<T>(engineDir: string, rel: string): Promise<T> {
  return (await import(pathToFileURL(path.join(engineDir, 'dist', rel)).href)) as T;
}

/** Template search path for a task, as src/cli/engine.ts sets it up for `apply`. */
function searchPathFor(playbookFile: string): (task: TaskConfig) => string[] {
  const base = path.dirname(path.resolve(playbookFile));
  const roots = [path.join(base, '..', 'templates'), path.join(base, 'templates'), base, path.join(base, '..')];
  return (task) => [...(task.role ? roots.map((r) => path.join(r, task.role!)) : []), ...roots];
}

/** Ansible templates every string it reads from variables: keep ours literal. */
function literal(value: unknown): unknown {
  if (typeof value === 'string') return /\{[{%#]/.test(value) ? `{% raw %}${value}{% endraw %}` : value;
  if (Array.isArray(value)) return value.map(literal);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, literal(v)]));
  return value;
}

const defined = (a: Args): Args => Object.fromEntries(Object.entries(a).filter(([, v]) => v !== undefined));

/** "foobar.*:ALL/*.*:REPLICATION SLAVE" from our parsed privileges. */
function privString(privileges: Map<string, string[]>): string {
  return [...privileges].map(([target, privs]) => `${target}:${privs.join(',')}`).join('/');
}

interface Converted {
  slots: Array<{ slot: Omit<Slot, 'loopVar'> & { loop: string }; items: Args[] }>;
  ansible: string;
  note?: string;
  /** Where the Ansible task checks less (or other) than ours, for RESULTS.md. */
  approximation?: string;
  sensitive?: boolean;
  meta?: 'flush_handlers';
}

/**
 * The Ansible module calls for one resolved task instance of ours. `file` writes a rendered
 * file's bytes locally and returns the path for `copy: src:`.
 */
async function convert(module: string, resolved: unknown, file: (content: Buffer) => Promise<string>): Promise<Converted> {
  switch (module) {
    case 'template':
    case 'copy': {
      const w = resolved as FileWrite;
      return {
        ansible: 'ansible.builtin.copy',
        sensitive: w.sensitive,
        slots: [{
          slot: { suffix: '', module: 'ansible.builtin.copy', loop: 'main' },
          items: [defined({ src: await file(w.content), dest: w.dest, mode: w.mode, owner: w.owner, group: w.group, validate: w.validate, backup: w.backup || undefined })],
        }],
        ...(module === 'template' ? { note: 'rendered by our engine; Ansible copies the rendered bytes (copy: src)' } : {}),
      };
    }
    case 'file': {
      const f = resolved as FileArgs;
      if (f.state === 'touch') throw new Error('file state: touch has no idempotent Ansible equivalent (Ansible changes the times on every run)');
      return {
        ansible: 'ansible.builtin.file',
        slots: [{ slot: { suffix: '', module: 'ansible.builtin.file', loop: 'main' }, items: [defined({ path: f.path, state: f.state, src: f.src, mode: f.mode, owner: f.owner, group: f.group, recurse: f.recurse || undefined })] }],
      };
    }
    case 'service': {
      const s = resolved as ServiceArgs;
      return {
        ansible: 'ansible.builtin.systemd',
        slots: [{ slot: { suffix: '', module: 'ansible.builtin.systemd', loop: 'main' }, items: [defined({ name: s.name, state: s.state, enabled: s.enabled, daemon_reload: s.daemonReload || undefined })] }],
      };
    }
    case 'apt': {
      const a = resolved as AptArgs;
      return {
        ansible: 'ansible.builtin.apt',
        slots: [{ slot: { suffix: '', module: 'ansible.builtin.apt', loop: 'main' }, items: [defined({ name: a.names, state: a.state, update_cache: a.updateCache })] }],
      };
    }
    case 'ufw': {
      const u = resolved as UfwArgs;
      const rules = u.rules.map((r) =>
        defined({ rule: r.action, port: r.port, proto: r.proto === 'any' ? undefined : r.proto, from_ip: r.from, comment: r.comment, _l: `${r.action} ${r.port ?? 'all'}${r.proto === 'any' ? '' : `/${r.proto}`} from ${r.from ?? 'any'}` }),
      );
      return {
        ansible: 'community.general.ufw',
        note: 'a loop over the rules, then the two default policies (the second call also asks for state: enabled)',
        approximation: 'rules the task does not declare are not looked for (ours removes them; Ansible\'s ufw module cannot without `state: reset`)',
        slots: [
          { slot: { suffix: ' (rules)', module: 'community.general.ufw', loop: 'rules' }, items: rules },
          {
            slot: { suffix: ' (policies, state)', module: 'community.general.ufw', loop: 'policy' },
            items: [
              { default: u.defaultIncoming, direction: 'incoming' },
              { default: u.defaultOutgoing, direction: 'outgoing', state: u.state },
            ],
          },
        ],
      };
    }
    case 'command': {
      const c = resolved as CommandArgs;
      if (typeof c.changedWhen === 'string') throw new Error(`command: changed_when expressions (${c.changedWhen}) are not translated to Jinja`);
      const runArgs = defined({ cmd: c.cmd, chdir: c.chdir, creates: c.creates, removes: c.removes, stdin: c.stdin });
      const changedWhen = c.changedWhen === false ? { changedWhen: false } : {};
      if (c.unless === undefined) {
        return {
          ansible: 'ansible.builtin.shell',
          ...(c.creates || c.removes ? { note: 'the same creates/removes guard' } : {}),
          slots: [{ slot: { suffix: '', module: 'ansible.builtin.shell', loop: 'main', ...changedWhen }, items: [runArgs] }],
        };
      }
      // Our `unless` guard (checked in the probe) has no Ansible keyword: the usual Ansible
      // pattern, a read-only check task whose result gates the command.
      return {
        ansible: 'ansible.builtin.shell ×2',
        note: '`unless` → a check task (changed_when: false) and the command `when` it failed',
        slots: [
          { slot: { suffix: ' (check)', module: 'ansible.builtin.shell', loop: 'main', register: 'check', changedWhen: false, failedWhen: false }, items: [{ cmd: c.unless, _run: runArgs }] },
          { slot: { suffix: '', module: 'ansible.builtin.shell', loop: 'main', from: '_run', when: 'REG.results[site_i].rc != 0', ...changedWhen }, items: [] },
        ],
      };
    }
    case 'mysql_db': {
      const d = resolved as MysqlDbArgs;
      return {
        ansible: 'community.mysql.mysql_db',
        slots: [{ slot: { suffix: '', module: 'community.mysql.mysql_db', loop: 'main' }, items: [defined({ name: d.name, state: d.state, encoding: d.encoding, collation: d.collation, login_unix_socket: MYSQL_SOCKET })] }],
      };
    }
    case 'mysql_user': {
      const u = resolved as MysqlUserArgs;
      return {
        ansible: 'community.mysql.mysql_user',
        sensitive: u.password !== undefined,
        slots: [{
          slot: { suffix: '', module: 'community.mysql.mysql_user', loop: 'main' },
          items: [defined({ name: u.name, host: u.host, password: u.password, priv: u.privileges ? privString(u.privileges) : undefined, state: u.state, login_unix_socket: MYSQL_SOCKET })],
        }],
      };
    }
    case 'mysql_replication': {
      const r = resolved as MysqlReplicationArgs;
      const gtid = r.useGtid === 'slave_pos' ? 'replica_pos' : r.useGtid;
      const want = { primary_host: r.primaryHost, primary_port: r.primaryPort, primary_user: r.primaryUser, primary_connect_retry: r.connectRetry, use_gtid: r.useGtid };
      // mode=changeprimary always reports a change: read the status first, as an Ansible playbook would.
      return {
        ansible: 'community.mysql.mysql_replication ×3',
        sensitive: true,
        note: 'getreplica, then changeprimary only when host, port, user, GTID mode or connect retry differ (changeprimary alone always reports a change), startreplica only when a thread is not running',
        approximation: 'the stored replication password is not compared (ours compares a hash of master.info\'s copy)',
        slots: [
          { slot: { suffix: ' (status)', module: 'community.mysql.mysql_replication', loop: 'main', register: 'status' }, items: [{ mode: 'getreplica', login_unix_socket: MYSQL_SOCKET, _want: want, _start: { mode: 'startreplica', login_unix_socket: MYSQL_SOCKET }, _change: { mode: 'changeprimary', primary_host: r.primaryHost, primary_port: r.primaryPort, primary_user: r.primaryUser, primary_password: r.primaryPassword, primary_use_gtid: gtid, primary_connect_retry: r.connectRetry, login_unix_socket: MYSQL_SOCKET } }] },
          {
            slot: {
              suffix: ' (change primary)',
              module: 'community.mysql.mysql_replication',
              loop: 'main',
              from: '_change',
              when:
                'not REG.results[site_i].Is_Replica or REG.results[site_i].Master_Host != item.a._want.primary_host ' +
                'or (REG.results[site_i].Master_Port | int) != (item.a._want.primary_port | int) or REG.results[site_i].Master_User != item.a._want.primary_user ' +
                'or (REG.results[site_i].Using_Gtid | lower) != item.a._want.use_gtid or (REG.results[site_i].Connect_Retry | int) != (item.a._want.primary_connect_retry | int)',
            },
            items: [],
          },
          {
            slot: { suffix: ' (start)', module: 'community.mysql.mysql_replication', loop: 'main', from: '_start', when: "REG.results[site_i].Slave_IO_Running | default('No') != 'Yes' or REG.results[site_i].Slave_SQL_Running | default('No') != 'Yes'" },
            items: [],
          },
        ],
      };
    }
    case 'flush_handlers':
      return { ansible: 'ansible.builtin.meta: flush_handlers', slots: [], meta: 'flush_handlers' };
    default:
      throw new Error(`no Ansible equivalent written for our module "${module}"`);
  }
}

/** Module arguments of a slot, read from the item (`| default(omit)` where some item lacks one). */
function slotArgs(keys: string[], counts: Map<string, number>, total: number, prefix: string): Args {
  return Object.fromEntries(keys.map((k) => [k, counts.get(k) === total ? `{{ ${prefix}.${k} }}` : `{{ ${prefix}.${k} | default(omit) }}`]));
}

function argKeyCounts(items: Args[]): { keys: string[]; counts: Map<string, number> } {
  const counts = new Map<string, number>();
  for (const a of items) for (const k of Object.keys(a)) if (!k.startsWith('_')) counts.set(k, (counts.get(k) ?? 0) + 1);
  return { keys: [...counts.keys()], counts };
}

export interface GenerateOptions {
  /** The engine build under test: bench/out/engine/<commit>. */
  engineDir: string;
  outDir: string;
  /** The site copy (bench/lib/site.ts). */
  site: BenchFiles;
  playbook: string;
}

/** Writes the Ansible playbook, inventory (with the per-host task arguments) and ansible.cfg. */
export async function writeSiteAnsible(o: GenerateOptions): Promise<SiteAnsible> {
  const { loadInventoryFor } = await engineModule<EngineCli>(o.engineDir, 'cli/engine.js');
  const { loadPlaybook } = await engineModule<ConfigPlaybook>(o.engineDir, 'config/playbook.js');
  const { hostVars, selectHosts } = await engineModule<InventoryApi>(o.engineDir, 'inventory/index.js');
  const { modules, knownModuleNames } = await engineModule<Registry>(o.engineDir, 'modules/registry.js');
  const { instancesOf } = await engineModule<PrepareApi>(o.engineDir, 'run/prepare.js');

  const inventory = await loadInventoryFor(o.site.inventory);
  const playbook = await loadPlaybook(o.playbook, { knownModules: new Set(knownModuleNames) });
  const byName = new Map(inventory.hosts.map((h) => [h.name, h]));
  const registers = new Set(playbook.plays.flatMap((p) => [...p.tasks, ...p.handlers].flatMap((t) => (t.register ? [t.register] : []))));
  if (registers.size > 0) throw new Error(`tasks with register (${[...registers].join(', ')}) are not translated`);
  const ctx = { modules, secretVarNames: inventory.secretVarNames, searchPathFor: searchPathFor(o.playbook), runtimeNames: new Set<string>() };

  const dir = path.join(o.outDir, 'site-ansible');
  await rm(dir, { recursive: true, force: true });
  await mkdir(path.join(dir, 'files'), { recursive: true, mode: 0o700 });
  const hostData = new Map<string, Args>(o.site.hosts.map((h) => [h.name, {}]));
  const mysqlHosts = new Set<string>();
  const mapping: TaskMapping[] = [];
  const approximations = new Set<string>(['handlers are not translated: a no-op notifies none']);
  const plays: Args[] = [];
  let taskCount = 0;
  let fileSerial = 0;

  for (const [pi, play] of playbook.plays.entries()) {
    const hosts = selectHosts(inventory, play.hosts, { where: play.hostsWhere }).map((h) => h.name);
    if (hosts.length === 0) continue;
    const tasks: Args[] = [];
    for (const [ti, task] of play.tasks.entries()) {
      const id = `site_${pi}_${ti}`;
      // Per host: its instances of this task, converted.
      const perHost = new Map<string, Array<{ label: string; conv: Converted }>>();
      for (const host of hosts) {
        const vars = hostVars(inventory, byName.get(host)!, { roleDefaults: play.roleDefaults, playVars: play.vars });
        const instances = await instancesOf(task, vars, { become: play.become, ...(play.becomeUser ? { becomeUser: play.becomeUser } : {}) }, ctx);
        const list: Array<{ label: string; conv: Converted }> = [];
        for (const inst of instances) {
          if (inst.prepared.state === 'skipped') continue;
          if (inst.prepared.state === 'deferred') throw new Error(`${task.name} on ${host}: deferred to run time (${inst.prepared.reason}), not translatable`);
          if (inst.become !== play.become) throw new Error(`${task.name}: a task-level become is not translated`);
          const conv = await convert(task.module, inst.prepared.resolved, async (content) => {
            const file = path.join(dir, 'files', host, `${id}-${++fileSerial}`);
            await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
            await writeFile(file, content, { mode: 0o600 });
            return file;
          });
          list.push({ label: inst.label, conv });
        }
        if (list.length > 0) perHost.set(host, list);
      }
      const any = [...perHost.values()][0]?.[0]?.conv;
      if (!any) {
        mapping.push({ ours: `${play.name}: ${task.name}`, ansible: '(skipped on every host)', calls: 0 });
        continue;
      }
      if (any.meta) {
        tasks.push({ name: task.name, 'ansible.builtin.meta': any.meta });
        mapping.push({ ours: `${play.name}: ${task.name} (${task.module})`, ansible: any.ansible, calls: 0 });
        continue;
      }
      const sensitive = [...perHost.values()].some((l) => l.some((x) => x.conv.sensitive));
      let calls = 0;
      for (const [si, slot] of any.slots.entries()) {
        const loopVar = `${id}_${slot.slot.loop}`;
        const register = slot.slot.register ? `${id}_${slot.slot.register}` : undefined;
        // Items per host. Slots after a `register` reuse the first slot's items (same loop).
        const all: Args[] = [];
        for (const [host, list] of perHost) {
          const items: Item[] = [];
          for (const x of list) for (const a of x.conv.slots[si]!.items) items.push({ l: typeof a._l === 'string' ? a._l : x.label, a });
          if (items.length === 0) continue;
          all.push(...items.map((i) => i.a));
          hostData.get(host)![loopVar] = literal(items);
          if (task.module.startsWith('mysql_')) mysqlHosts.add(host);
        }
        // A conditional slot (the command behind an `unless` check, the replication changes)
        // loops over the first slot's items and reads its arguments from a key of them.
        const sub = slot.slot.from;
        if (!sub) calls += all.length;
        const source = sub ? [...perHost.values()].flatMap((l) => l.flatMap((x) => x.conv.slots[0]!.items.map((a) => a[sub] as Args))) : all;
        const { keys, counts } = argKeyCounts(source);
        const prefix = sub ? `item.a.${sub}` : 'item.a';
        const previousRegister = any.slots.slice(0, si).map((s) => s.slot.register).filter(Boolean).pop();
        const when = slot.slot.when?.replace(/REG/g, `${id}_${previousRegister ?? ''}`);
        const t: Args = {
          name: `${task.name}${slot.slot.suffix}`,
          [slot.slot.module]: slotArgs(keys, counts, source.length, prefix),
          loop: `{{ ${loopVar} | default([]) }}`,
          loop_control: { label: '{{ item.l }}', ...(slot.slot.when ? { index_var: 'site_i' } : {}) },
          ...(register ? { register } : {}),
          ...(when ? { when } : {}),
          ...(slot.slot.changedWhen !== undefined ? { changed_when: slot.slot.changedWhen } : {}),
          ...(slot.slot.failedWhen !== undefined ? { failed_when: slot.slot.failedWhen } : {}),
          ...(task.ignoreErrors ? { ignore_errors: true } : {}),
          ...(sensitive ? { no_log: true } : {}),
        };
        tasks.push(t);
        taskCount += 1;
      }
      mapping.push({ ours: `${play.name}: ${task.name} (${task.module})`, ansible: any.ansible, calls, ...(any.note ? { note: any.note } : {}) });
      if (any.approximation) approximations.add(`${task.name}: ${any.approximation}`);
    }
    plays.push({
      name: play.name,
      hosts: hosts.join(','),
      gather_facts: false,
      become: play.become,
      ...(play.becomeUser ? { become_user: play.becomeUser } : {}),
      ...(play.strategy === 'free' ? { strategy: 'free' } : {}),
      tasks,
    });
  }

  const playbookFile = path.join(dir, 'site.yml');
  await writeFile(
    playbookFile,
    `# Generated by bench/lib/site-ansible.ts from playbooks/site.yml as our engine resolves it; do not edit.\n` +
      `# Handlers are left out: a no-op notifies none.\n${stringify(plays, { version: '1.1', lineWidth: 0 })}`,
    { mode: 0o600 },
  );
  const inventoryFile = path.join(dir, 'inventory.yml');
  const ansibleInv = {
    all: {
      vars: { ansible_user: 'deploy', ansible_ssh_private_key_file: LAB_KEY, ansible_python_interpreter: '/usr/bin/python3' },
      hosts: Object.fromEntries(o.site.hosts.map((h) => [h.name, { ansible_host: h.address, ...hostData.get(h.name) }])),
    },
  };
  await writeFile(inventoryFile, `# Generated by bench/lib/site-ansible.ts; holds vault values; do not edit.\n${stringify(ansibleInv, { version: '1.1', lineWidth: 0 })}`, { mode: 0o600 });
  const config = path.join(dir, 'ansible.cfg');
  await writeAnsibleConfig(config, {
    header: 'Generated by bench/lib/site-ansible.ts; the same settings as the bench workload.',
    inventory: inventoryFile,
    forks: Math.max(9, o.site.n),
    knownHosts: o.site.knownHosts,
    outDir: o.outDir,
  });
  return { playbook: playbookFile, inventory: inventoryFile, config, mysqlHosts: [...mysqlHosts], tasks: taskCount, mapping, approximations: [...approximations] };
}

const PYMYSQL = ['python3-pymysql'];

/**
 * community.mysql needs PyMySQL on the host. Like python3-apt (bench/lib/prereqs.ts): fetched as
 * a .deb on the machine, installed over ssh where missing, before anything is measured.
 */
export async function ensurePyMysql(f: BenchFiles, hosts: string[], outDir: string): Promise<void> {
  const debDir = path.join(outDir, 'debs-pymysql');
  const debs = await fetchDebs(debDir, PYMYSQL);
  const byName = new Map(f.hosts.map((h) => [h.name, h.address]));
  await Promise.all(
    hosts.map(async (name) => {
      const address = byName.get(name);
      if (!address) throw new Error(`${name}: not a host of ${f.inventory}`);
      await installDebs(f, address, debDir, debs, 'python3-pymysql');
    }),
  );
}

/** The generated playbook, measured exactly as the bench workload is (bench/lib/tools.ts). */
export function runSiteAnsible(p: Paths, f: BenchFiles, gen: SiteAnsible, kind: Kind, label: string): Promise<RunResult> {
  return runAnsible(p, f, kind, label, { playbook: gen.playbook, config: gen.config, slowestTasks: 40 });
}
