// ssh2, loaded on first use: commands that never connect (--help, inventory, validate, doc) start
// without it. ssh2 is CommonJS, so a synchronous require serves callers that cannot await.
import { createRequire } from 'node:module';
import type Ssh2 from 'ssh2';

let loaded: typeof Ssh2 | undefined;

export function ssh2(): typeof Ssh2 {
  loaded ??= createRequire(import.meta.url)('ssh2') as typeof Ssh2;
  return loaded;
}
