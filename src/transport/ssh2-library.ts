// ssh2, loaded on first use: commands that never connect (--help, inventory, validate, doc) start
// without it. ssh2 is CommonJS, so a synchronous require serves callers that cannot await.
// Only the two parts we use are loaded, the client and the key parser: ssh2's index also loads
// its server, HTTP agents and key generator (and with them node:http), a few ms of every run.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type Ssh2 from 'ssh2';

/** What the transport, the lab's probe and the key cache take from ssh2. */
export interface Ssh2Parts {
  Client: typeof Ssh2.Client;
  utils: { parseKey: typeof Ssh2.utils.parseKey };
}

let loaded: Ssh2Parts | undefined;

export function ssh2(): Ssh2Parts {
  if (!loaded) {
    const require = createRequire(import.meta.url);
    // The package's main file is lib/index.js; its parts sit beside it.
    const lib = dirname(require.resolve('ssh2'));
    const { parseKey } = require(join(lib, 'protocol', 'keyParser.js')) as { parseKey: typeof Ssh2.utils.parseKey };
    loaded = { Client: require(join(lib, 'client.js')) as typeof Ssh2.Client, utils: { parseKey } };
  }
  return loaded;
}
