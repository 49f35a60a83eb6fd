#!/usr/bin/env node
// Thin launcher: the compiled CLI lives in dist/ (built by `npm install` through the prepare script),
// as one bundled file (scripts/bundle-cli.mjs); a build made by tsc alone has only dist/cli/main.js.
import { existsSync, readFileSync } from 'node:fs';

const argv = process.argv.slice(2);
if (argv.length === 1 && argv[0] === '--version') {
  // The commonest probe answers before anything else loads (same text as the full CLI's --version).
  const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  process.stdout.write(`${version}\n`);
} else {
  const bundle = new URL('../dist/cli/main.bundle.js', import.meta.url);
  const { main } = await import(existsSync(bundle) ? bundle.href : '../dist/cli/main.js');
  main(argv).then((code) => {
    process.exitCode = code;
  });
}
