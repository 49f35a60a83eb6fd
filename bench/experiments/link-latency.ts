// What a connection costs on a slow link, in round trips: the transport of one or more builds
// connects through a loopback relay that holds every chunk --delay ms each way (so a round trip is
// twice that), to a loopback sshd, --runs times each, alternating builds. A connection's set-up
// time divided by the round trip says how many round trips it took. Needs root and /usr/sbin/sshd.
//
//   npx tsx bench/experiments/link-latency.ts [--delay 25] [--runs 6] [--build DIR[,DIR]]
//
// --build names project folders whose dist/ is built (default: this one); for a before/after,
// `git archive OLD | tar -x -C /tmp/old`, link node_modules, `npm run build` there.
import { writeFileSync } from 'node:fs';
import { createServer, connect, type AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { median } from '../lib/report.js';
import { sshdSettings, startSshd, SKIP_LOGIN_SHELL_RC } from '../../test/helpers/sshd.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values } = parseArgs({ options: { delay: { type: 'string', default: '25' }, runs: { type: 'string', default: '6' }, build: { type: 'string', default: ROOT } } });
const DELAY = Number(values.delay);
const RUNS = Number(values.runs);
const builds = values.build.split(',').map((b) => path.resolve(b));

const sshd = await startSshd({ extraConfig: [SKIP_LOGIN_SHELL_RC] });
// Each chunk goes on after DELAY ms, in order; Nagle off, so the relay adds nothing of its own.
const relay = createServer((down) => {
  const up = connect(sshd.port, '127.0.0.1');
  for (const s of [down, up]) s.setNoDelay(true);
  const later = (fn: () => void) => setTimeout(fn, DELAY);
  down.on('data', (b) => later(() => up.write(b)));
  up.on('data', (b) => later(() => down.write(b)));
  down.on('end', () => later(() => up.end()));
  up.on('end', () => later(() => down.end()));
  down.on('error', () => up.destroy());
  up.on('error', () => down.destroy());
});
await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
const port = (relay.address() as AddressInfo).port;
const knownHosts = path.join(sshd.dir, 'known_hosts.relay');
writeFileSync(knownHosts, `${sshd.knownHostsLine(`[127.0.0.1]:${port}`)}\n`);

const connectMs = new Map<string, number[]>(builds.map((b) => [b, []]));
try {
  for (let i = 0; i < RUNS; i++) {
    for (const build of builds) {
      const { SshTransport } = (await import(path.join(build, 'dist', 'transport', 'ssh.js'))) as typeof import('../../src/transport/ssh.js');
      const t = new SshTransport(sshdSettings(sshd, { port, knownHostsFiles: [knownHosts] }), { env: {}, interactive: false });
      const started = performance.now();
      await t.connect();
      connectMs.get(build)!.push(performance.now() - started);
      await t.exec('true');
      await t.close();
    }
  }
} finally {
  relay.close();
  await sshd.stop();
}
console.log(`Connection set-up through a relay holding each chunk ${DELAY} ms each way (round trip ${2 * DELAY} ms), ${RUNS} runs each, alternating:\n`);
console.log('| build | set-up ms (median; every run) | round trips |');
console.log('|---|---|---|');
for (const [build, ms] of connectMs) {
  const m = median(ms);
  console.log(`| ${path.relative(process.cwd(), build) || '.'} | ${m.toFixed(0)} (${ms.map((x) => x.toFixed(0)).join(', ')}) | ${(m / (2 * DELAY)).toFixed(1)} |`);
}
