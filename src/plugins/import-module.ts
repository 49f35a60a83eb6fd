// Loads one file of a project's own code (a module file, or a package's entry): esbuild bundles
// it (TypeScript transpiled; its relative imports and npm dependencies included), then Node
// imports the bundle from a private temp folder. `import ... from 'foobar-provision'` is served
// from the running tool itself, so the module gets the very ModuleArgs and ConfigError the tool
// checks with, whatever copy (or none) the project has installed.
import type { Message, Plugin } from 'esbuild';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { recordInput } from '../config/input-files.js';
import { ConfigError } from '../errors.js';
import * as api from '../index.js';

const API_KEY = 'foobar-provision.api';
const PACKAGE = 'foobar-provision';

/** The package's public API, as a module the bundle imports (by a global set just for it). */
function apiModuleSource(): string {
  const names = Object.keys(api).filter((name) => /^[A-Za-z_$][\w$]*$/.test(name));
  return [`const api = globalThis[Symbol.for(${JSON.stringify(API_KEY)})];`, ...names.map((name) => `export const ${name} = api.${name};`)].join('\n');
}

const selfApi: Plugin = {
  name: 'foobar-provision-api',
  setup(b) {
    b.onResolve({ filter: /^foobar-provision(\/.*)?$/ }, (args) => {
      if (args.path !== PACKAGE) return { errors: [{ text: `import from "${PACKAGE}" itself, not from its files ("${args.path}")` }] };
      return { path: PACKAGE, namespace: 'foobar-api' };
    });
    b.onLoad({ filter: /.*/, namespace: 'foobar-api' }, () => ({ contents: apiModuleSource(), loader: 'js' }));
  },
};

function firstError(errors: Message[]): string {
  const [error] = errors;
  if (!error) return 'it could not be compiled';
  const at = error.location ? `${error.location.file}:${error.location.line}:${error.location.column + 1}: ` : '';
  return `${at}${error.text}`;
}

/** The file's exports. A compile error, or an error thrown while it runs, is bad input naming it. */
export async function importProjectFile(file: string, label: string = file): Promise<Record<string, unknown>> {
  let code: string;
  try {
    // Loaded only when a project has modules: every other command starts without it.
    const { build } = await import('esbuild');
    const result = await build({
      entryPoints: [file],
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      write: false,
      logLevel: 'silent',
      sourcemap: 'inline',
      plugins: [selfApi],
      metafile: true,
      // Bundled CommonJS dependencies may call require() for Node's own modules.
      banner: { js: "import { createRequire as __fbpCreateRequire } from 'node:module'; const require = __fbpCreateRequire(import.meta.url);" },
    });
    code = result.outputFiles[0]?.text ?? '';
    // The module's code decides plans: a saved plan lists its files, and `apply FILE` refuses
    // when one changed since (as for playbooks and templates).
    for (const input of Object.keys(result.metafile?.inputs ?? {})) {
      if (/^[\w-]+:/.test(input)) continue;
      recordInput(resolve(input), await readFile(resolve(input)));
    }
  } catch (error) {
    const errors = (error as { errors?: Message[] }).errors;
    throw new ConfigError(`${label}: cannot be compiled: ${errors ? firstError(errors) : (error as Error).message}`);
  }
  (globalThis as Record<symbol, unknown>)[Symbol.for(API_KEY)] = api;
  const dir = await mkdtemp(join(tmpdir(), 'foobar-module-'));
  try {
    const bundle = join(dir, 'module.mjs');
    await writeFile(bundle, code, { mode: 0o600 });
    return (await import(pathToFileURL(bundle).href)) as Record<string, unknown>;
  } catch (error) {
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    throw new ConfigError(`${label}: failed while loading: ${message}`, undefined, 'the module threw when it was imported; run it with node to see the stack');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
