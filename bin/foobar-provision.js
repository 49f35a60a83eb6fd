#!/usr/bin/env node
// Thin launcher: the compiled CLI lives in dist/ (built by `npm install` through the prepare script),
// as one bundled file (scripts/bundle-cli.mjs) made from tsc's output. Where tsc alone built
// (no bundle, or tsc's output newer than the bundle), that output runs instead.
import { readFileSync, statSync, writeSync } from 'node:fs';

/** package.json's version, or undefined (then the full CLI answers, as it always did). */
function packageVersion() {
  try {
    const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    return typeof version === 'string' ? version : undefined;
  } catch {
    return undefined;
  }
}

const argv = process.argv.slice(2);
// The commonest probe answers before anything else loads (the full CLI prints the same line).
const version = argv.length === 1 && argv[0] === '--version' ? packageVersion() : undefined;
if (version !== undefined) {
  try {
    writeSync(1, `${version}\n`);
  } catch {
    // A reader that went away (EPIPE) or a closed stdout: nothing to tell, as with the full CLI.
  }
} else {
  const bundle = new URL('../dist/cli/main.bundle.js', import.meta.url);
  const compiled = new URL('../dist/cli/main.js', import.meta.url);
  const bundled = statSync(bundle, { throwIfNoEntry: false });
  const fresh = bundled !== undefined && bundled.mtimeMs >= (statSync(compiled, { throwIfNoEntry: false })?.mtimeMs ?? 0);
  const { main } = await import(fresh ? bundle.href : compiled.href);
  main(argv).then((code) => {
    process.exitCode = code;
  });
}
