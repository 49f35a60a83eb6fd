// Bundles the compiled CLI (dist/cli/main.js, the ~330 files it imports and its ESM dependencies)
// into one file, dist/cli/main.bundle.js, which bin/ loads: Node then reads, compiles and links
// one file instead of hundreds, which was most of the start-up time (bench/RESULTS.md,
// "Start-up (issue 15)"). Run by `npm run build` after tsc, so also by `npm ci` (prepare).
//
// ssh2 and esbuild stay outside, loaded from node_modules as before: both have native parts, and
// each is loaded only by the commands that use it.
import { build } from 'esbuild';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const dist = fileURLToPath(new URL('../dist/cli/', import.meta.url));

/**
 * yargs finds its locale files, and the package.json whose version `--version` prints, from its
 * own file's location (import.meta.url in its Node shim). Inside the bundle that would be the
 * bundle's location, so the shim is given the location of the installed yargs instead: the same
 * files as without the bundle. Should yargs not be resolvable, the bundle's own location is used
 * (English messages; the version is read from the working directory upwards).
 */
const yargsShimLocation = {
  name: 'yargs-shim-location',
  setup(b) {
    b.onLoad({ filter: /[\\/]yargs[\\/]lib[\\/]platform-shims[\\/]esm\.mjs$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      if (!source.includes('import.meta.url')) throw new Error(`${args.path}: no import.meta.url to relocate; check this plugin against the new yargs`);
      const where = [
        'let __yargsShimUrl = import.meta.url;',
        "try { __yargsShimUrl = new URL('./lib/platform-shims/esm.mjs', import.meta.resolve('yargs')).href; } catch {}",
      ].join('\n');
      return { contents: `${where}\n${source.replaceAll('import.meta.url', '__yargsShimUrl')}`, loader: 'js' };
    });
  },
};

await build({
  entryPoints: [`${dist}main.js`],
  outfile: `${dist}main.bundle.js`,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['ssh2', 'esbuild'],
  plugins: [yargsShimLocation],
  // Bundled CommonJS dependencies (yaml) call require() for Node's own modules.
  banner: { js: "import { createRequire as __fbpCreateRequire } from 'node:module'; const require = __fbpCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
