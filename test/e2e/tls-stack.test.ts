// TLS inside the stack, proven on the wire: a capture on the lab bridge (the controller's lab0,
// which sees every frame between the hosts), filtered to the stack's internal ports, while requests
// go through the virtual IP, a row is written and replicates from db1 to db2, and Prometheus
// scrapes every exporter. The capture must hold traffic on each of those ports, and no HTTP
// request line, no SQL text and not the row's unique marker. A clear request on the VIP's port 80,
// captured too, shows that the reader would find clear text if there were any.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO, addressOf, onHost } from '../helpers/lab.js';
import { readPcap, type TcpPacket } from '../helpers/pcap.js';

const VIP = (parse(readFileSync(`${REPO}inventory/lab.yml`, 'utf8')) as { vars: { vip: string } }).vars.vip;
const LAB = (parse(readFileSync(`${REPO}inventory/lab.yml`, 'utf8')) as { lab: { bridge: string; gateway: string } }).lab;
const BRIDGE = LAB.bridge;
const CONTROLLER = LAB.gateway; // this machine's address on the bridge
// The stack's internal hops: HAProxy -> nginx (80, TLS on it), nginx -> app (8000), app and
// replica -> MariaDB (3306), Prometheus -> node (9100), mysqld (9104), nginx (9113) exporters and
// HAProxy's metrics (8405). Port 443 too (the visitors' side, TLS already).
const INTERNAL_PORTS = { web: 80, app: 8000, mysql: 3306, node: 9100, mysqld: 9104, nginx: 9113, haproxy: 8405 };
const PORTS = [443, ...Object.values(INTERNAL_PORTS)];
// Prometheus's scrape jobs of the stack's exporters (its own job scrapes localhost).
const EXPORTER_JOBS = ['node', 'nginx', 'mysqld', 'haproxy'];
const CLEAR_TEXT = ['GET /', 'POST /write', 'HTTP/1.1', 'INSERT INTO', 'SELECT', 'messages'];

const dir = mkdtempSync(join(tmpdir(), 'fbp-tls-capture-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function fetchVip(path: string, opts: { method?: string; body?: string; plain?: boolean } = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const send = opts.plain ? httpRequest : request;
    const req = send({
      host: VIP, port: opts.plain ? 80 : 443, path, method: opts.method ?? 'GET', agent: false,
      rejectUnauthorized: false, // the VIP's public certificate is the lab's self-signed one
      timeout: 5000,
      headers: opts.body === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(opts.body) },
    }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timeout: ${path}`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}

async function poll<T>(ms: number, probe: () => Promise<T | undefined>): Promise<T | undefined> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** tcpdump on the bridge, writing each packet as it comes (-U); resolves once it listens. */
function startCapture(file: string): Promise<ChildProcess> {
  const filter = `tcp and (${PORTS.map((p) => `port ${p}`).join(' or ')})`;
  const child = spawn('tcpdump', ['-i', BRIDGE, '-n', '-U', '-s', '0', '-Z', 'root', '-w', file, filter], { stdio: ['ignore', 'ignore', 'pipe'] });
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes('listening on')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`tcpdump exited ${code}: ${err}`)));
  });
}

function stopCapture(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGINT');
  });
}

/** Unix seconds of Prometheus's last scrape of each target, by job and host label. */
async function lastScrapes(): Promise<Array<{ job: string; host: string; at: number; health: string; scrapeUrl: string }>> {
  const res = await fetch(`http://${addressOf('mon1')}:9090/api/v1/targets?state=active`);
  const data = (await res.json()) as { data: { activeTargets: Array<{ labels: Record<string, string>; lastScrape: string; health: string; scrapeUrl: string }> } };
  return data.data.activeTargets.map((t) => ({ job: t.labels['job']!, host: t.labels['host'] ?? '', at: Date.parse(t.lastScrape) / 1000, health: t.health, scrapeUrl: t.scrapeUrl }));
}

const hasPort = (p: TcpPacket, port: number) => p.srcPort === port || p.dstPort === port;
/** The control request: this machine to the VIP's port 80, and its answer. */
const isControl = (p: TcpPacket) => (p.src === CONTROLLER && p.dst === VIP && p.dstPort === 80) || (p.src === VIP && p.dst === CONTROLLER && p.srcPort === 80);

describe('TLS inside the stack', () => {
  it('Prometheus scrapes every exporter over https', async () => {
    // Polled: a reload of Prometheus's configuration takes effect a moment after apply returns.
    const good = (ts: Awaited<ReturnType<typeof lastScrapes>>) => {
      const exporters = ts.filter((t) => EXPORTER_JOBS.includes(t.job));
      return exporters.length > 0 && exporters.every((t) => t.scrapeUrl.startsWith('https://')) && ts.every((t) => t.health === 'up');
    };
    const ok = await poll(45_000, async () => (good(await lastScrapes()) ? true : undefined));
    const targets = await lastScrapes();
    expect(ok, JSON.stringify(targets.filter((t) => t.health !== 'up' || (EXPORTER_JOBS.includes(t.job) && !t.scrapeUrl.startsWith('https://'))))).toBe(true);
    expect([...new Set(targets.map((t) => t.job))]).toEqual(expect.arrayContaining(EXPORTER_JOBS));
  });

  it('a capture on the bridge during requests, a write and its replication holds no clear HTTP, SQL or row data', async () => {
    const file = join(dir, 'stack.pcap');
    const marker = `tls-capture-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
    const control = `/clear-control-${marker.split('-').at(-1)}`;
    const tcpdump = await startCapture(file);
    const started = Date.now() / 1000;
    let packets: TcpPacket[] = [];
    try {
      for (let i = 0; i < 4; i += 1) expect((await fetchVip('/?format=json')).status).toBe(200);
      const written = await fetchVip('/write', { method: 'POST', body: `msg=${marker}` });
      expect(written.status, written.body).toBe(201);
      // The row reaches db2 through replication (read there as root over the unix socket, via SSH).
      const replicated = await poll(30_000, async () => {
        const out = await onHost('db2', `sudo mysql -N -B -e "SELECT COUNT(*) FROM foobar.messages WHERE msg = '${marker}'"`);
        return out.trim() === '1' ? true : undefined;
      });
      expect(replicated, `${marker} did not reach db2`).toBe(true);
      // Read back through the stack (from the replica).
      expect((await fetchVip('/?format=json')).body).toContain('"rows"');
      // Every scrape job has scraped at least once during the capture.
      const scraped = await poll(45_000, async () => ((await lastScrapes()).every((t) => t.at > started + 0.5) ? true : undefined));
      expect(scraped, 'not every target was scraped during the capture').toBe(true);
      // The positive control: a clear request the reader must find.
      expect((await fetchVip(control, { plain: true })).status).toBe(301);
      // tcpdump writes each packet as it reads it (-U): wait until the last one is in the file.
      const flushed = await poll(10_000, async () => (readFileSync(file).includes(control) ? true : undefined));
      expect(flushed, 'the control request never reached the capture file').toBe(true);
    } finally {
      await stopCapture(tcpdump);
    }
    packets = readPcap(readFileSync(file));

    // The control proves that clear text on the wire is found.
    const controlText = Buffer.concat(packets.filter(isControl).map((p) => p.payload)).toString('latin1');
    expect(controlText).toContain(`GET ${control} HTTP/1.1`);

    // Traffic on every internal hop was captured, so its absence below means something.
    const internal = packets.filter((p) => !isControl(p));
    for (const [hop, port] of Object.entries(INTERNAL_PORTS)) {
      const bytes = internal.filter((p) => hasPort(p, port)).reduce((n, p) => n + p.payload.length, 0);
      expect(bytes, `no payload captured on the ${hop} port ${port}`).toBeGreaterThan(0);
    }
    const wire = Buffer.concat(internal.map((p) => p.payload)).toString('latin1');
    for (const text of [...CLEAR_TEXT, marker]) expect(wire.includes(text), `"${text}" in clear on the bridge`).toBe(false);
    // Not in the raw capture either, whatever the framing (headers and all).
    expect(readFileSync(file).includes(marker), 'the row marker in the capture').toBe(false);
    console.log(`tls capture: ${packets.length} packets, ${wire.length} payload bytes on internal ports, ${((Date.now() / 1000) - started).toFixed(1)} s`);
  });

  it('HAProxy verifies the web servers: web1 with a certificate from another CA is marked DOWN, and UP again with its own', async () => {
    const web1 = addressOf('web1');
    const state = async (lb: string) => (await onHost(lb, `echo "show stat" | sudo nc -N -U /run/haproxy/admin.sock | awk -F, '$1 == "web" && $2 == "web1" { print $18 " " $37 }'`)).trim();
    const tls = '/etc/foobar/tls';
    // A certificate for the same names, from a CA that is not the stack's.
    await onHost('web1', [
      `sudo cp -p ${tls}/host.crt ${tls}/host.crt.e2e-keep && sudo cp -p ${tls}/host.key ${tls}/host.key.e2e-keep`,
      `sudo openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=web1 -addext "subjectAltName=DNS:web1,IP:${web1}" -keyout ${tls}/host.key -out ${tls}/host.crt 2>/dev/null`,
      'sudo systemctl reload nginx',
    ].join(' && '));
    const swapped = Date.now();
    try {
      const down = await poll(30_000, async () => ((await state('lb1')).startsWith('DOWN') ? true : undefined));
      const seen = await state('lb1');
      expect(down, `lb1 sees web1 as ${seen}`).toBe(true);
      console.log(`tls verify: lb1 marked web1 ${seen} ${((Date.now() - swapped) / 1000).toFixed(1)} s after nginx reloaded a foreign certificate`);
      // The handshake failed (layer 6), not the connection or the HTTP answer.
      expect(seen).toMatch(/^DOWN \*?\s*L6/);
      // The site still answers, from web2.
      expect((await fetchVip('/healthz')).body).toMatch(/^ok web2/);
    } finally {
      await onHost('web1', `sudo mv ${tls}/host.crt.e2e-keep ${tls}/host.crt && sudo mv ${tls}/host.key.e2e-keep ${tls}/host.key && sudo systemctl reload nginx`);
    }
    const up = await poll(30_000, async () => ((await state('lb1')).startsWith('UP') && (await state('lb2')).startsWith('UP') ? true : undefined));
    expect(up, `web1 back: lb1 ${await state('lb1')}, lb2 ${await state('lb2')}`).toBe(true);
  });
});
