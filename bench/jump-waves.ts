// Hosts behind one jump host: N targets through one bastion sshd (MaxSessions 1) to one target
// sshd (stock MaxStartups 10:30:100), for several jump_channels values: wall time to the first
// answer of every host, hosts that failed, and connections the bastion accepted.
//
//   npx tsx bench/jump-waves.ts [N=40] [channels=1,4,8,16,64]   (root: it starts sshds)
import { SshTransport } from '../src/transport/ssh.js';
import { jumpPoolWith } from '../src/transport/jump-pool.js';
import { ensureTestUsers, sshdSettings, startSshd } from '../test/helpers/sshd.js';

const n = Number(process.argv[2] ?? 40);
const widths = (process.argv[3] ?? '1,4,8,16,64').split(',').map(Number);
const deps = { env: {}, interactive: false };

await ensureTestUsers();
const bastion = await startSshd({ maxSessions: 1 });
const target = await startSshd({ maxSessions: 10 });
try {
  for (const width of widths) {
    const pool = jumpPoolWith(deps);
    const before = bastion.connectionCount();
    const jump = [sshdSettings(bastion, { hostName: 'bastion', jumpChannels: width })];
    const ts = Array.from({ length: n }, (_, i) => new SshTransport(sshdSettings(target, { hostName: `t${i}`, jump, connectTimeoutMs: 120_000, commandTimeoutMs: 0 }), { ...deps, jumps: pool }));
    const started = process.hrtime.bigint();
    const results = await Promise.allSettled(ts.map((t) => t.exec('true')));
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    const failed = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    const reasons = [...new Set(failed.map((f) => (f.reason as Error).message.replace(/^t\d+: /, '')))].slice(0, 2);
    console.log(`n=${n} jump_channels=${width}: ${ms.toFixed(0)} ms, failed=${failed.length}, bastion connections=${bastion.connectionCount() - before}${reasons.length ? `, e.g. ${reasons.join(' | ')}` : ''}`);
    if (process.env.SHOWLOG) console.log(target.log().split("\n").filter((l) => /drop|MaxStartups|error|fatal/i.test(l)).slice(0, 8).join("\n"));
    await Promise.all(ts.map((t) => t.close()));
  }
} finally {
  await Promise.all([bastion.stop(), target.stop()]);
}
