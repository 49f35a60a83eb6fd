// Bundles the compiled CLI (dist/cli/main.js and the ~330 files it imports, with the small ESM
// dependencies) into one file, dist/cli/main.bundle.js, which bin/ loads: Node then reads and
// links one file instead of hundreds, which is most of the start-up time (bench/RESULTS.md,
// "Start-up (issue 15)"). Run by `npm run build` after tsc, so also by `npm ci` (prepare).
//
// Left outside the bundle, loaded from node_modules as before:
// - ssh2 and esbuild: native parts, and each is loaded only by the commands that use it;
// - yargs: it finds its locale files and its caller's package.json from its own location.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const dist = fileURLToPath(new URL('../dist/cli/', import.meta.url));

await build({
  entryPoints: [`${dist}main.js`],
  outfile: `${dist}main.bundle.js`,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['ssh2', 'esbuild', 'yargs', 'yargs/*'],
  // Bundled CommonJS dependencies (yaml) call require() for Node's own modules.
  banner: { js: "import { createRequire as __fbpCreateRequire } from 'node:module'; const require = __fbpCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
