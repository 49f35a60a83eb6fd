// systemd_unit: a unit file, or a drop-in that overrides part of one, under /etc/systemd/system.
// A change marks the run's one daemon-reload as due (systemd-units.ts); starting or enabling the
// unit is a `service` task's job, so that all unit changes share that one reload.
import { TemplateError } from '../errors.js';
import type { FactQuery, HostFacts } from '../facts/types.js';
import { shellQuote } from '../shell/quote.js';
import { renderTemplateFile } from '../template/render.js';
import { isUnrendered, ModuleArgs } from './args.js';
import { fileWrite, fileWriteQueries, planFileWrite, type FileWrite } from './file-write.js';
import { locateSource } from './search-path.js';
import { markUnitFileChanged, unitNameProblem } from './systemd-units.js';
import { docArgNames, type ModuleDefinition, type ModuleDoc, type PlanContext, type TaskPlan } from './types.js';

export const UNIT_DIR = '/etc/systemd/system';

export const SYSTEMD_UNIT_DOC: ModuleDoc = {
  args: [
    { name: 'name', type: 'string', required: true, description: 'The unit with its type suffix, e.g. app.service or backup.timer (no "/", spaces, or leading "-").' },
    { name: 'content', type: 'string', description: 'The unit file text. Variables are filled in once, as in copy; their values are written as they are.' },
    { name: 'src', type: 'path', description: 'An EJS template beside the playbook or in the role, rendered like template. Give content or src.' },
    { name: 'dropin', type: 'string', description: `Write a drop-in instead of the unit: ${UNIT_DIR}/NAME.d/DROPIN.conf (".conf" is added when missing); the directory is created.` },
    { name: 'state', type: 'present | absent', default: 'present', description: 'absent removes the file (and an empty drop-in directory).' },
  ],
  example: `- name: install the app's unit
  systemd_unit:
    name: app.service
    content: |
      [Unit]
      Description=The app
      [Service]
      ExecStart=/usr/local/bin/app
      [Install]
      WantedBy=multi-user.target
`,
  notes: [
    `Files go to ${UNIT_DIR} (mode 0644). The plan shows a diff of the unit file.`,
    'Any unit file change (this module, systemd_timer, or template/copy into a unit directory) makes one systemctl daemon-reload per host per run: before the next service task, or at the end of the play.',
    'Start and enable the unit with a service task after the unit tasks; remove it with state: absent after stopping and disabling it.',
  ],
};

export interface SystemdUnitArgs {
  name: string;
  content?: string;
  src?: string;
  dropin?: string;
  state: 'present' | 'absent';
}

export type ResolvedUnit =
  | { state: 'present'; path: string; unit: string; write: FileWrite }
  | { state: 'absent'; path: string; unit: string };

export function unitFilePath(name: string, dropin: string | undefined): string {
  if (dropin === undefined) return `${UNIT_DIR}/${name}`;
  return `${UNIT_DIR}/${name}.d/${dropin.endsWith('.conf') ? dropin : `${dropin}.conf`}`;
}

export type UnitTemplateRenderer = typeof renderTemplateFile;

export function createSystemdUnitModule(render: UnitTemplateRenderer = renderTemplateFile): ModuleDefinition<SystemdUnitArgs, ResolvedUnit> {
  return {
    name: 'systemd_unit',
    exactAssume: true,
    summary: 'Install a systemd unit file or drop-in (content or template); one daemon-reload per host per run.',
    doc: SYSTEMD_UNIT_DOC,
    validate(raw, where) {
      const args = ModuleArgs.read('systemd_unit', raw, where, docArgNames(SYSTEMD_UNIT_DOC));
      const name = args.requiredString('name');
      const problem = isUnrendered(name) ? undefined : unitNameProblem(name, { suffix: 'required' });
      if (problem) throw args.error('name', `unit name "${name}" ${problem}`, 'e.g. name: app.service');
      const state = args.oneOf('state', ['present', 'absent'] as const) ?? 'present';
      const result: SystemdUnitArgs = { name, state };
      const dropin = args.string('dropin');
      if (dropin !== undefined) {
        if (!isUnrendered(dropin) && !/^[A-Za-z0-9_@][A-Za-z0-9_.@-]*$/.test(dropin)) {
          throw args.error('dropin', `drop-in name "${dropin}" may hold only letters, digits and _ . @ - (no "/" or spaces)`, 'e.g. dropin: override');
        }
        result.dropin = dropin;
      }
      const content = args.string('content');
      const src = args.string('src');
      if (content !== undefined && src !== undefined) throw args.error('content', 'give either "content" or "src", not both');
      if (state === 'absent' && (content !== undefined || src !== undefined)) throw args.error(content !== undefined ? 'content' : 'src', 'state: absent takes no content or src');
      if (state === 'present' && content === undefined && (src === undefined || src === '')) {
        throw args.error(undefined, 'missing "content" or "src"', 'content: the unit text, or src: a template beside the playbook or in the role');
      }
      if (content !== undefined) result.content = content;
      if (src !== undefined) result.src = src;
      return result;
    },
    async resolve(args, ctx) {
      const path = unitFilePath(args.name, args.dropin);
      if (args.state === 'absent') return { state: 'absent', path, unit: args.name };
      const common = { dest: path, mode: '0644', backup: false, sensitive: false };
      if (args.content !== undefined) {
        // Rendered once by the executor with the task's other arguments: what it holds now is data.
        return { state: 'present', path, unit: args.name, write: fileWrite(common, Buffer.from(args.content, 'utf8'), ctx.secretArgs?.has('content') === true) };
      }
      const src = args.src ?? '';
      const { file, tried, problem } = locateSource(src, ctx.searchPath);
      if (file === undefined) {
        if (problem) throw new TemplateError(`systemd_unit template "${src}": ${problem}`, ctx.where.arg['src'] ?? ctx.where.task);
        throw new TemplateError(`systemd_unit template "${src}" not found`, ctx.where.arg['src'] ?? ctx.where.task, `searched: ${tried.join(', ') || '(empty search path)'}`);
      }
      const rendered = await render(file, ctx.vars, { secretVarNames: ctx.secretVarNames });
      return { state: 'present', path, unit: args.name, write: fileWrite(common, Buffer.from(rendered.content, 'utf8'), rendered.usedSecrets) };
    },
    queries(resolved) {
      if (resolved.state === 'absent') return [{ kind: 'file', path: resolved.path }];
      const queries: FactQuery[] = fileWriteQueries(resolved.write);
      return queries;
    },
    plan(resolved, facts, ctx) {
      return resolved.state === 'absent' ? planRemove(resolved, facts, ctx) : planInstall(resolved.write, facts, ctx);
    },
  };
}

/** Writes the file; a drop-in's directory is made first when missing. */
function planInstall(write: FileWrite, facts: HostFacts, ctx: PlanContext): TaskPlan {
  const dir = write.dest.slice(0, write.dest.lastIndexOf('/'));
  const dirFact = facts.files.get(dir);
  if (dir === UNIT_DIR || dirFact?.exists) return planFileWrite(write, facts, ctx);
  // Plan as if the directory were there; the step that makes it goes first.
  const made = { path: dir, exists: true, type: 'directory' as const, mode: '0755', owner: 'root', group: 'root' };
  const withDir: HostFacts = { ...facts, files: new Map(facts.files).set(dir, made) };
  const plan = planFileWrite(write, withDir, ctx);
  if (plan.status !== 'changed') return plan;
  return {
    ...plan,
    summary: `${plan.summary} (making ${dir})`,
    steps: [{ command: `mkdir -p -m 0755 -- ${shellQuote(dir)}`, become: ctx.become, description: `make ${dir}` }, ...plan.steps],
    assume(cache) {
      cache.files.set(dir, made);
      plan.assume?.(cache);
    },
  };
}

function planRemove(resolved: ResolvedUnit, facts: HostFacts, ctx: PlanContext): TaskPlan {
  const fact = facts.files.get(resolved.path);
  if (!fact) return { status: 'failed', reason: `no facts gathered for ${resolved.path}` };
  if (!fact.exists) return { status: 'ok', reason: `${resolved.path} is absent` };
  if (fact.type !== 'file' && fact.type !== 'link') return { status: 'failed', reason: `${resolved.path} is a ${fact.type ?? 'special file'}, not a unit file` };
  const dir = resolved.path.slice(0, resolved.path.lastIndexOf('/'));
  const commands = [`rm -f -- ${shellQuote(resolved.path)}`];
  // A drop-in directory left empty goes with its last drop-in.
  if (dir !== UNIT_DIR) commands.push(`rmdir --ignore-fail-on-non-empty -- ${shellQuote(dir)}`);
  return {
    status: 'changed',
    summary: `remove ${resolved.path}`,
    steps: [{ command: commands.join(' && '), become: ctx.become, description: `remove ${resolved.path}` }],
    unitFileChanged: true,
    assume(cache) {
      cache.files.set(resolved.path, { path: resolved.path, exists: false });
      markUnitFileChanged(cache, resolved.unit);
    },
  };
}

export const systemdUnitModule = createSystemdUnitModule();
