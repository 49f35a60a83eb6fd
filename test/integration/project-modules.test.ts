// A project's own modules, loaded by the built CLI without rebuilding it: the example module of
// examples/modules applied over a real sshd (converge, 0 changes in 1 round trip, a manual edit
// shown as its diff), `modules` and `doc` printing its declaration, and the hostile cases: a file
// that is not a module, a name clash (built-in, two files, a package), a module that throws at
// import or does not compile, a symlink loop, a module file that is a directory, and a module
// whose plan throws or is malformed on one host while the other host goes on.
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseReport, runCli } from '../helpers/cli.js';
import { ensureTestUsers, loopbackInventory, startSshd, type TestSshd } from '../helpers/sshd.js';

const REPO = resolve(import.meta.dirname, '../..');
const EXAMPLE = join(REPO, 'examples/modules');

let sshd: TestSshd;
const made: string[] = [];

/** A project folder holding `files` (path → content); returns its folder. */
async function project(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'fbp-plugins-'));
  made.push(dir);
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  return dir;
}

const PLAY = '- hosts: all\n  tasks: []\n';

/** A module in a few lines of JavaScript, with a doc, for the hostile cases. */
const tinyModule = (name: string, plan = "() => ({ status: 'ok', reason: 'fine' })") => `export default {
  name: ${JSON.stringify(name)},
  summary: 'a tiny module',
  doc: { args: [], example: '- ${name}: {}\\n' },
  validate: () => ({}),
  resolve: (a) => a,
  queries: () => [],
  plan: ${plan},
};
`;

const modulesOf = (dir: string) => runCli(['modules', '-p', join(dir, 'site.yml')], { cwd: dir });

beforeAll(async () => {
  await ensureTestUsers();
  sshd = await startSshd();
});

afterAll(async () => {
  await sshd?.stop();
  for (const dir of made) await rm(dir, { recursive: true, force: true });
});

describe('the example module, loaded by the built tool', () => {
  let dir: string;
  let envFile: string;
  const cli = (...args: string[]) => runCli([...args, '-i', join(dir, 'inventory.yml'), '-p', join(dir, 'site.yml'), '--var', `env_dir=${join(dir, 'target')}`], { cwd: dir });

  beforeAll(async () => {
    dir = await project({ 'inventory.yml': loopbackInventory(sshd), 'target/.keep': '' });
    await copyFile(join(EXAMPLE, 'site.yml'), join(dir, 'site.yml'));
    await mkdir(join(dir, 'modules'));
    await copyFile(join(EXAMPLE, 'modules', 'kv_file.ts'), join(dir, 'modules', 'kv_file.ts'));
    envFile = join(dir, 'target', 'app');
  });

  it('applies, then re-applies with 0 changes in one round trip', async () => {
    await writeFile(envFile, '# managed\nAPP_DEBUG=1\nAPP_PORT=80\n');
    const first = await cli('apply', '--json');
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(parseReport(first.stdout).results.find((r) => r.task === 'app environment')).toMatchObject({ outcome: 'changed' });
    expect(await readFile(envFile, 'utf8')).toBe('# managed\nAPP_PORT=8080\nAPP_MODE=production\n');

    const second = parseReport((await cli('apply', '--json')).stdout);
    expect(second.changes).toBe(0);
    expect(second.hosts[0]).toMatchObject({ status: 'ok', roundTrips: 1 });
    expect(second.results.find((r) => r.task === 'app environment')?.reason).toContain('keys as declared');
  });

  it('plan shows a manual edit as exactly that diff', async () => {
    await writeFile(envFile, '# managed\nAPP_PORT=9999\nAPP_MODE=production\n');
    const result = await cli('plan', '--json', '--exit-code');
    expect(result.code).toBe(3);
    const change = parseReport(result.stdout).results.find((r) => r.task === 'app environment')!;
    expect(change.outcome).toBe('changed');
    const lines = change.diff!.patch.split('\n').filter((l) => /^[-+][^-+]/.test(l));
    expect(lines).toEqual(['-APP_PORT=9999', '+APP_PORT=8080']);
    expect(await readFile(envFile, 'utf8')).toContain('APP_PORT=9999');
  });

  it('a saved plan loads it again, lists its file among the inputs, and is refused once the module changed', async () => {
    await writeFile(envFile, 'APP_PORT=1\n');
    const saved = await cli('plan', '--out', join(dir, 'env.plan'));
    expect(saved.code, saved.stderr).toBe(0);
    const file = JSON.parse(await readFile(join(dir, 'env.plan'), 'utf8')) as { inputs: Record<string, string> };
    expect(Object.keys(file.inputs)).toContain(join(dir, 'modules', 'kv_file.ts'));
    const applySaved = (planFile: string, ...extra: string[]) => runCli(['apply', planFile, '--var', `env_dir=${join(dir, 'target')}`, ...extra], { cwd: dir });
    const applied = await applySaved(join(dir, 'env.plan'), '--json');
    expect(applied.code, applied.stderr).toBe(0);
    expect(await readFile(envFile, 'utf8')).toBe('APP_PORT=8080\nAPP_MODE=production\n');

    await writeFile(envFile, 'APP_PORT=2\n');
    expect((await cli('plan', '--out', join(dir, 'env2.plan'))).code).toBe(0);
    const source = await readFile(join(dir, 'modules', 'kv_file.ts'), 'utf8');
    await writeFile(join(dir, 'modules', 'kv_file.ts'), `${source}\n// edited after planning\n`);
    const refused = await applySaved(join(dir, 'env2.plan'));
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('kv_file.ts');
    await writeFile(join(dir, 'modules', 'kv_file.ts'), source);
    expect(await readFile(envFile, 'utf8')).toBe('APP_PORT=2\n');
  });

  it('modules lists it with its file; doc prints its declaration (and as JSON)', async () => {
    const list = await modulesOf(dir);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^kv_file +Set or remove KEY=VALUE lines .*\[modules\/kv_file\.ts\]$/m);
    expect(list.stdout).toMatch(/^template +Render an EJS template/m);
    const doc = await runCli(['doc', 'kv_file', '-p', join(dir, 'site.yml')], { cwd: dir });
    expect(doc.code).toBe(0);
    expect(doc.stdout).toContain('from: modules/kv_file.ts');
    expect(doc.stdout).toContain('  create  (boolean, default true)');
    expect(doc.stdout).toContain('    kv_file:\n      path: /etc/default/app');
    const json = JSON.parse((await runCli(['doc', 'kv_file', '--json', '-p', join(dir, 'site.yml')], { cwd: dir })).stdout) as { args: Array<{ name: string }> };
    expect(json.args.map((a) => a.name)).toEqual(['path', 'values', 'absent', 'mode', 'create']);
  });

  it('validate checks its arguments: an unknown one names what it takes', async () => {
    const text = (await readFile(join(dir, 'site.yml'), 'utf8')).replace('mode: \'0644\'', "mdoe: '0644'");
    await writeFile(join(dir, 'bad.yml'), text);
    const result = await runCli(['validate', '-i', join(dir, 'inventory.yml'), '-p', join(dir, 'bad.yml')], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('kv_file: unknown argument "mdoe"; did you mean "mode"?');
    expect(result.stderr).toContain('kv_file takes: path, values, absent, mode, create');
  });
});

describe('doc NAME', () => {
  it('an unknown name is exit 2 with a suggestion; an Ansible spelling finds ours', async () => {
    const bad = await runCli(['doc', 'tempalte']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown module "tempalte"; did you mean "template"?');
    const ansible = await runCli(['doc', 'ansible.builtin.copy']);
    expect(ansible.code).toBe(0);
    expect(ansible.stdout).toMatch(/^copy: /);
  });
});

describe('hostile and odd project modules', () => {
  it('a file of another kind is left alone; a .js file that exports no module is refused, naming it', async () => {
    const fine = await project({ 'site.yml': PLAY, 'modules/README.md': '# notes', 'modules/_helper.js': 'export const x = 1;\n', 'modules/ok_one.mjs': tinyModule('ok_one') });
    expect((await modulesOf(fine)).stdout).toContain('ok_one');
    const dir = await project({ 'site.yml': PLAY, 'modules/notes.js': 'export const text = "hello";\n' });
    const result = await modulesOf(dir);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('modules/notes.js: exports no module');
    const shape = await project({ 'site.yml': PLAY, 'modules/half.js': "export default { name: 'half', summary: 'x', validate() {} };\n" });
    const half = await modulesOf(shape);
    expect(half.code).toBe(2);
    expect(half.stderr).toContain('modules/half.js: not a module: "resolve" must be a function; "queries" must be a function; "plan" must be a function; "doc" must be');
  });

  it('a module named like a built-in or a task keyword is refused', async () => {
    const dir = await project({ 'site.yml': PLAY, 'modules/copy.js': tinyModule('copy') });
    const result = await modulesOf(dir);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('modules/copy.js: module "copy" has the name of a built-in module');
    const keyword = await project({ 'site.yml': PLAY, 'modules/register.js': tinyModule('register') });
    const asKeyword = await modulesOf(keyword);
    expect(asKeyword.code).toBe(2);
    expect(asKeyword.stderr).toContain('modules/register.js: module "register" has the name of a task keyword');
  });

  it('two project modules of one name are refused, naming both files (folder and npm package too)', async () => {
    const dir = await project({ 'site.yml': PLAY, 'modules/motd.js': tinyModule('motd'), 'modules/motd.ts': tinyModule('motd') });
    const result = await modulesOf(dir);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('module "motd" is defined twice: in modules/motd.js and in modules/motd.ts');

    const withPackage = await project({
      'site.yml': PLAY,
      'foobar.config.yml': 'modules:\n  - foobar-mod-motd\n',
      'modules/motd.js': tinyModule('motd'),
      'node_modules/foobar-mod-motd/package.json': JSON.stringify({ name: 'foobar-mod-motd', type: 'module', exports: { '.': { import: './index.js' } } }),
      'node_modules/foobar-mod-motd/index.js': tinyModule('motd'),
    });
    const clash = await modulesOf(withPackage);
    expect(clash.code).toBe(2);
    expect(clash.stderr).toContain('module "motd" is defined twice: in modules/motd.js and in npm package "foobar-mod-motd" (node_modules/foobar-mod-motd/index.js)');
  });

  it('an npm package named in foobar.config.yml is loaded; a missing one is exit 2 naming the config', async () => {
    const dir = await project({
      'site.yml': PLAY,
      'foobar.config.yml': 'modules:\n  - "@acme/foobar-hello"\n',
      'node_modules/@acme/foobar-hello/package.json': JSON.stringify({ name: '@acme/foobar-hello', main: 'main.cjs' }),
      'node_modules/@acme/foobar-hello/main.cjs': tinyModule('hello').replace('export default', 'module.exports ='),
    });
    const result = await modulesOf(dir);
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/^hello +a tiny module +\[npm package "@acme\/foobar-hello" \(node_modules\/@acme\/foobar-hello\/main\.cjs\)\]$/m);
    const missing = await project({ 'site.yml': PLAY, 'foobar.config.yml': 'modules:\n  - foobar-not-here\n' });
    const absent = await modulesOf(missing);
    expect(absent.code).toBe(2);
    expect(absent.stderr).toMatch(/foobar\.config\.yml:2:\d+: npm package "foobar-not-here" is not installed/);
    const escaping = await project({
      'site.yml': PLAY,
      'foobar.config.yml': 'modules: [sneaky]\n',
      'node_modules/sneaky/package.json': JSON.stringify({ name: 'sneaky', main: '../../site.yml' }),
    });
    expect((await modulesOf(escaping)).stderr).toContain('npm package "sneaky": its entry "../../site.yml" is outside the package');
    const path = await project({ 'site.yml': PLAY, 'foobar.config.yml': 'modules: [../evil]\n' });
    expect((await modulesOf(path)).stderr).toContain('"../evil" is not an npm package name');
    const typo = await project({ 'site.yml': PLAY, 'foobar.config.yml': 'moduels: [x]\n' });
    expect((await modulesOf(typo)).stderr).toContain('unknown key "moduels" in foobar.config.yml; did you mean "modules"?');
  });

  it('a module that throws at import, or does not compile, is exit 2 naming the file and the error', async () => {
    const dir = await project({ 'site.yml': PLAY, 'modules/boom.ts': "throw new Error('kaboom at import');\nexport default {};\n" });
    const result = await modulesOf(dir);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('modules/boom.ts: failed while loading: Error: kaboom at import');
    const broken = await project({ 'site.yml': PLAY, 'modules/broken.ts': 'export default {\n  name: "broken",,\n};\n' });
    const compile = await modulesOf(broken);
    expect(compile.code).toBe(2);
    expect(compile.stderr).toMatch(/modules\/broken\.ts: cannot be compiled: .*broken\.ts:2:\d+: /);
  });

  it('a symlink loop and a module file that is a directory are refused without hanging', async () => {
    const loop = await project({ 'site.yml': PLAY });
    await mkdir(join(loop, 'modules'));
    await symlink('loop.ts', join(loop, 'modules', 'loop.ts'));
    const looped = await modulesOf(loop);
    expect(looped.code).toBe(2);
    expect(looped.stderr).toContain('modules/loop.ts: symlink loop');
    const folder = await project({ 'site.yml': PLAY, 'modules/thing.ts/index.ts': tinyModule('thing') });
    const dirResult = await modulesOf(folder);
    expect(dirResult.code).toBe(2);
    expect(dirResult.stderr).toContain('modules/thing.ts is a directory, not a module file');
    const selfLoop = await project({ 'site.yml': PLAY });
    await symlink('modules', join(selfLoop, 'modules'));
    expect((await modulesOf(selfLoop)).stderr).toContain('modules: symlink loop');
  });

  it('a plan that throws or is malformed fails that host, naming the module; the other host is unaffected', async () => {
    const grumpy = `export default {
  name: 'grumpy',
  summary: 'plans badly on request',
  doc: { args: [{ name: 'mood', type: 'string', required: true, description: 'how to plan' }], example: '- grumpy: { mood: fine }\\n' },
  validate: (raw) => raw,
  resolve: (a) => a,
  queries: () => [],
  plan(args) {
    if (args.mood === 'throw') throw new TypeError('cannot read the thing');
    if (args.mood === 'malformed') return { status: 'changed', summary: 'do it' };
    return { status: 'ok', reason: 'in a fine mood' };
  },
};
`;
    const inventory = `${loopbackInventory(sshd)}  node2: { address: 127.0.0.1, port: ${sshd.port} }\nvars:\n  moods: { node1: throw, node2: fine }\n`;
    const play = '- hosts: all\n  tasks:\n    - name: be grumpy\n      grumpy: { mood: "<%= moods[inventory_hostname] %>" }\n';
    const dir = await project({ 'site.yml': play, 'inventory.yml': inventory, 'modules/grumpy.mjs': grumpy });
    const run = (mood: string) => runCli(['plan', '--json', '-i', join(dir, 'inventory.yml'), '-p', join(dir, 'site.yml'), '--var', `moods={node1: ${mood}, node2: fine}`], { cwd: dir });
    for (const [mood, words] of [['throw', 'module "grumpy" (modules/grumpy.mjs): plan() threw: TypeError: cannot read the thing'], ['malformed', 'module "grumpy" (modules/grumpy.mjs) returned a malformed plan: a changed plan needs "steps"']] as const) {
      const result = await run(mood);
      expect(result.code).toBe(1);
      const report = parseReport(result.stdout);
      expect(report.results.find((r) => r.host === 'node1')).toMatchObject({ outcome: 'failed' });
      expect(report.results.find((r) => r.host === 'node1')?.reason).toContain(words);
      expect(report.results.find((r) => r.host === 'node2')).toMatchObject({ outcome: 'ok', reason: 'in a fine mood' });
    }
  });
});

describe('the package as an author installs it', () => {
  it('typechecks the example against the published types (package.json exports + dist/index.d.ts); a wrong field is an error', async () => {
    const dir = await project({
      'package.json': JSON.stringify({ type: 'module' }),
      'tsconfig.json': JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, target: 'ES2022', types: ['node'] }, include: ['modules'] }),
    });
    await mkdir(join(dir, 'node_modules', '@types'), { recursive: true });
    await symlink(REPO, join(dir, 'node_modules', 'foobar-provision'));
    await symlink(join(REPO, 'node_modules', '@types', 'node'), join(dir, 'node_modules', '@types', 'node'));
    await mkdir(join(dir, 'modules'));
    const source = await readFile(join(EXAMPLE, 'modules', 'kv_file.ts'), 'utf8');
    await writeFile(join(dir, 'modules', 'kv_file.ts'), source);
    const tsc = (): Promise<string> => promisify(execFile)(process.execPath, [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', dir]).then(() => '', (error: { stdout?: string }) => error.stdout ?? String(error));
    expect(await tsc()).toBe('');
    await writeFile(join(dir, 'modules', 'kv_file.ts'), source.replace("  summary: 'Set or remove", "  sumary: 'Set or remove"));
    expect(await tsc()).toContain("'sumary' does not exist in type 'ModuleDefinition<KvFileArgs, KvFileArgs>'");
  });
});
