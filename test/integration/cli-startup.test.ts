// What the built CLI loads at start-up (issue 15): `--version` answers from package.json alone,
// and the commands that never connect (--help, inventory, validate, doc) load neither ssh2 nor
// esbuild. Files loaded are seen through an ESM load hook and a wrapper of require(), the way
// bench/startup.ts lists them; nothing here is timed.
import { execFile, spawn } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI } from '../helpers/cli.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const BUNDLE = pathToFileURL(join(REPO, 'dist', 'cli', 'main.bundle.js')).href;
const VERSION = (JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;

let dir: string;
let runs = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fbp-startup-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs the CLI in the repository (its inventory/ and playbooks/) and lists the files Node loaded. */
async function loadedBy(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Promise<{ code: number; stdout: string; files: string[] }> {
  const list = join(dir, `loaded-${++runs}.txt`);
  const hooks = join(dir, `hooks-${runs}.mjs`);
  const register = join(dir, `register-${runs}.mjs`);
  await writeFile(hooks, `import { appendFileSync } from 'node:fs';\nexport async function load(url, context, next) { appendFileSync(${JSON.stringify(list)}, url + '\\n'); return next(url, context); }\n`);
  await writeFile(
    register,
    `import { appendFileSync } from 'node:fs';\nimport Module, { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n` +
      `const load = Module._load;\nModule._load = function (request, parent, ...rest) {\n  try { appendFileSync(${JSON.stringify(list)}, 'file://' + Module._resolveFilename(request, parent) + '\\n'); } catch {}\n  return load.call(this, request, parent, ...rest);\n};\n`,
  );
  const { code, stdout } = await new Promise<{ code: number; stdout: string }>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', pathToFileURL(register).href, CLI, ...args], { cwd: opts.cwd ?? REPO, env: { ...process.env, NO_COLOR: '1', ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.on('error', reject);
    child.on('close', (c) => resolve({ code: c ?? -1, stdout: out }));
  });
  const files = (await readFile(list, 'utf8').catch(() => '')).split('\n').filter((u) => u.startsWith('file:'));
  return { code, stdout, files };
}

const packagesIn = (files: string[]) => [...new Set(files.map((f) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(f)?.[1]).filter(Boolean))];

describe('start-up: what each command loads', () => {
  it('--version prints package.json version, loading nothing but the launcher', async () => {
    const r = await loadedBy(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${VERSION}\n`);
    expect(r.files.map((f) => fileURLToPath(f))).toEqual([CLI]);
  });

  it('--version to a reader that went away exits 0 quietly, as the full CLI does', async () => {
    const child = spawn(process.execPath, [CLI, '--version'], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? -1)));
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });

  it('the launcher runs the bundle, unless tsc alone built after it (then tsc output runs)', async () => {
    // A copy of the launcher over a dist/ whose two entry points say which one ran.
    const root = join(dir, 'launcher');
    await mkdir(join(root, 'bin'), { recursive: true });
    await mkdir(join(root, 'dist', 'cli'), { recursive: true });
    await copyFile(CLI, join(root, 'bin', 'foobar-provision.js'));
    await writeFile(join(root, 'package.json'), '{ "type": "module", "version": "9.9.9" }\n');
    const entry = (name: string) => `export async function main(argv) { process.stdout.write('${name} ' + argv.join(' ')); return 0; }\n`;
    const compiled = join(root, 'dist', 'cli', 'main.js');
    const bundle = join(root, 'dist', 'cli', 'main.bundle.js');
    await writeFile(compiled, entry('compiled'));
    const ran = () => new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, [join(root, 'bin', 'foobar-provision.js'), 'plan'], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (b: Buffer) => (out += b.toString()));
      child.on('error', reject);
      child.on('close', () => resolve(out));
    });
    expect(await ran()).toBe('compiled plan');
    await writeFile(bundle, entry('bundle'));
    await utimes(compiled, new Date(1_000_000), new Date(1_000_000));
    expect(await ran()).toBe('bundle plan');
    await utimes(compiled, new Date(), new Date(Date.now() + 60_000));
    expect(await ran()).toBe('compiled plan');
  });

  it('--version after a command still goes through the full CLI and says the same', async () => {
    const r = await loadedBy(['plan', '--version']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${VERSION}\n`);
    expect(r.files).toContain(BUNDLE);
  });

  it('yargs inside the bundle still finds its own files: the version from anywhere, and its locales', async () => {
    // Run from a folder with no package.json above it: the version comes from the tool's own.
    const version = await loadedBy(['plan', '--version'], { cwd: dir });
    expect(version.stdout).toBe(`${VERSION}\n`);
    const german = await loadedBy(['--help'], { env: { LANG: 'de_DE.UTF-8', LC_ALL: '', LC_MESSAGES: '' } });
    expect(german.stdout).toContain('Kommandos:');
  });

  it.each([
    ['--help', ['--help']],
    ['plan --help', ['plan', '--help']],
    ['inventory', ['inventory', '--inventory', 'lab', '--json']],
    ['validate', ['validate', '--playbook', 'playbooks/site.yml']],
    ['doc', ['doc', 'template']],
  ])('%s loads neither ssh2 nor esbuild', async (_name, args) => {
    const r = await loadedBy(args);
    expect(r.code).toBe(0);
    expect(r.stdout.length).toBeGreaterThan(0);
    const packages = packagesIn(r.files);
    // The CLI ran from its bundle; the last test shows the hook sees ssh2 where it is loaded.
    expect(r.files).toContain(BUNDLE);
    expect(packages).not.toContain('ssh2');
    expect(packages).not.toContain('esbuild');
  });

  it('a command that connects does load ssh2 (the hook sees it when it is there)', async () => {
    // A real key, and no host answering on port 1: ping fails, after loading ssh2 to try.
    const key = join(dir, 'id_ed25519');
    await promisify(execFile)('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
    await writeFile(join(dir, 'one.yml'), `connection:\n  user: nobody\n  key: ${key}\n  connect_timeout: 1\nhosts:\n  h1: { address: 127.0.0.1, port: 1 }\n`);
    const r = await loadedBy(['ping', '--inventory', join(dir, 'one.yml')]);
    expect(r.code).not.toBe(0);
    expect(packagesIn(r.files)).toContain('ssh2');
  });
});
