// Which SSH algorithms cost the controller least (issue 15, part 2): connects --n times, --conc at
// once, to one loopback sshd with ssh2 in this process, each time handshake + auth + one exec
// (`true`), and reports this process's CPU (process.cpuUsage) per connection for each candidate
// kex / cipher, in rounds so that machine noise hits every candidate alike. Prints what each
// connection negotiated. Also the connection set-up as it was before issue 15 part 2 (a 'none'
// request first, the host proving all its host keys, the key's PEM decoded on each signature)
// against now (--setup). Needs root and /usr/sbin/sshd.
//
//   npx tsx bench/experiments/ssh-algorithms.ts [--n 60] [--conc 20] [--rounds 3] [--setup]

import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { Algorithms } from 'ssh2';
import type { ParsedKey } from 'ssh2';
import { algorithmsFor } from '../../src/transport/algorithms.js';
import { skipHostKeysProof } from '../../src/transport/hostkeys-proof.js';
import { decodePrivateKeyOnce } from '../../src/transport/key-object.js';
import { ssh2 } from '../../src/transport/ssh2-library.js';
import { startSshd, type TestSshd } from '../../test/helpers/sshd.js';

const { values } = parseArgs({ options: { n: { type: 'string', default: '60' }, conc: { type: 'string', default: '20' }, rounds: { type: 'string', default: '3' }, setup: { type: 'boolean', default: false } } });
const N = Number(values.n);
const CONC = Number(values.conc);
const ROUNDS = Number(values.rounds);

const base = algorithmsFor(['ssh-ed25519']);
interface Candidate { algorithms: Algorithms; now?: boolean }
const algorithmCandidates: Record<string, Algorithms> = {
  'ours (as shipped)': base,
  'kex curve25519-sha256, aes128-gcm': { ...base, kex: ['curve25519-sha256'], cipher: ['aes128-gcm@openssh.com'] },
  'kex curve25519-sha256, chacha20-poly1305': { ...base, kex: ['curve25519-sha256'], cipher: ['chacha20-poly1305@openssh.com'] },
  'kex curve25519-sha256, aes256-gcm': { ...base, kex: ['curve25519-sha256'], cipher: ['aes256-gcm@openssh.com'] },
  'kex ecdh-sha2-nistp256, aes128-gcm': { ...base, kex: ['ecdh-sha2-nistp256'], cipher: ['aes128-gcm@openssh.com'] },
  'kex curve25519-sha256, aes128-ctr + hmac-sha2-256-etm': { ...base, kex: ['curve25519-sha256'], cipher: ['aes128-ctr'], hmac: ['hmac-sha2-256-etm@openssh.com'] },
};

const candidates: Record<string, Candidate> = values.setup
  ? { 'set-up as before (none first, host keys proved, PEM per signature)': { algorithms: base }, 'set-up now': { algorithms: base, now: true } }
  : Object.fromEntries(Object.entries(algorithmCandidates).map(([k, a]) => [k, { algorithms: a, now: true }]));

function once(sshd: TestSshd, keys: { pem: ParsedKey; decoded: ParsedKey }, cand: Candidate, seen: Set<string>): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = new (ssh2().Client)();
    c.on('handshake', (h) => seen.add(`${h.kex} / ${h.serverHostKey} / ${h.cs.cipher} / ${h.cs.mac || '(AEAD)'}`));
    c.on('ready', () => {
      c.exec('true', (err, ch) => {
        if (err) return reject(err);
        ch.on('close', () => {
          c.end();
          resolve();
        });
        ch.resume();
      });
    });
    c.on('error', reject);
    const username = 'root';
    const authHandler = cand.now ? [{ type: 'publickey' as const, username, key: keys.decoded }] : [{ type: 'none' as const, username }, { type: 'publickey' as const, username, key: keys.pem }];
    c.connect({ host: '127.0.0.1', port: sshd.port, username, authHandler, algorithms: cand.algorithms, hostVerifier: () => true, readyTimeout: 60_000 });
    if (cand.now) skipHostKeysProof(c);
  });
}

async function runCandidate(sshd: TestSshd, key: { pem: ParsedKey; decoded: ParsedKey }, cand: Candidate, seen: Set<string>): Promise<number> {
  const before = process.cpuUsage();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < N) {
      next++;
      await once(sshd, key, cand, seen);
    }
  };
  await Promise.all(Array.from({ length: CONC }, worker));
  const d = process.cpuUsage(before);
  return (d.user + d.system) / 1000 / N;
}

const sshd = await startSshd({ users: ['root'], extraConfig: [`MaxStartups ${CONC + 10}`] });
try {
  const parse = async (): Promise<ParsedKey> => {
    const k = ssh2().utils.parseKey(await readFile(sshd.clientKeyPath));
    if (k instanceof Error) throw k;
    return Array.isArray(k) ? k[0]! : k;
  };
  const key = { pem: await parse(), decoded: await parse() };
  decodePrivateKeyOnce(key.decoded);
  const results = new Map<string, number[]>();
  const negotiated = new Map<string, Set<string>>();
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, algos] of Object.entries(candidates)) {
      const seen = negotiated.get(name) ?? new Set<string>();
      negotiated.set(name, seen);
      const ms = await runCandidate(sshd, key, algos, seen);
      results.set(name, [...(results.get(name) ?? []), ms]);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(`| candidate | controller CPU ms per connection (median; every round) | negotiated (kex / host key / cipher / mac) |`);
  console.log('|---|---|---|');
  for (const [name, ms] of results) console.log(`| ${name} | ${median(ms).toFixed(2)} (${ms.map((x) => x.toFixed(2)).join(', ')}) | ${[...negotiated.get(name)!].join('; ')} |`);
} finally {
  await sshd.stop();
}
