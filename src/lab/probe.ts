// Asks a lab host whether it is ready: SSH answers, with the host key it made itself, and
// systemd has finished booting. Talks only to the host's own lab address.

import net from 'node:net';
import { ssh2 } from '../transport/ssh2-library.js';

export interface ProbeResult {
  ok: boolean;
  output: string;
  error?: string;
}

/** Connects to port 22 and reads the server's identification line. */
export function sshBanner(address: string, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: address, port: 22 });
    const done = (ok: boolean): void => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.on('error', () => done(false));
    sock.once('data', (d) => done(d.toString('latin1').startsWith('SSH-')));
  });
}

/** Runs one command over SSH, accepting only the given host keys. */
export function sshRun(opts: {
  address: string;
  user: string;
  privateKey: Buffer;
  hostKeys: Buffer[];
  command: string;
  timeoutMs: number;
}): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const client = new (ssh2().Client)();
    let out = '';
    let settled = false;
    const finish = (r: ProbeResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      client.end();
      resolve(r);
    };
    const timer = setTimeout(() => finish({ ok: false, output: out, error: 'timed out' }), opts.timeoutMs);
    client.on('error', (e) => finish({ ok: false, output: out, error: e.message }));
    client.on('ready', () => {
      client.exec(opts.command, (err, stream) => {
        if (err) return finish({ ok: false, output: '', error: err.message });
        stream.on('data', (d: Buffer) => (out += d.toString()));
        stream.stderr.on('data', () => undefined);
        stream.on('close', (code: number | null) => finish({ ok: code === 0, output: out.trim() }));
      });
    });
    client.connect({
      host: opts.address,
      port: 22,
      username: opts.user,
      privateKey: opts.privateKey,
      readyTimeout: Math.min(opts.timeoutMs, 10_000),
      hostVerifier: (key: Buffer) => opts.hostKeys.some((k) => k.equals(key)),
    });
  });
}
