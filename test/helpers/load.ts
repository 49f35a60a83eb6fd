// A steady, bounded stream of HTTPS requests through the virtual IP, recording every response,
// so a test can say whether any request failed while something changed behind it.
import { Agent, request } from 'node:https';

export interface LoadResult {
  sent: number;
  ok: number;
  failures: Array<{ at: number; error: string }>;
  /** X-Served-By values seen, e.g. "web1 app2". */
  servedBy: Map<string, number>;
  /** X-Web-Release / X-App-Version values seen, in order of first appearance. */
  releases: string[];
}

export interface LoadGenerator {
  /** Stops sending; resolves when every request in flight has answered. */
  stop(): Promise<LoadResult>;
}

/** Sends `rate` requests per second to `url` until stopped (or `maxSeconds`, whichever first). */
export function startLoad(url: string, rate = 20, maxSeconds = 600): LoadGenerator {
  // Self-signed lab certificate: this client checks availability, not identity.
  const agent = new Agent({ keepAlive: false, rejectUnauthorized: false });
  const result: LoadResult = { sent: 0, ok: 0, failures: [], servedBy: new Map(), releases: [] };
  const started = Date.now();
  const inFlight = new Set<Promise<void>>();
  const one = (): Promise<void> =>
    new Promise((resolve) => {
      result.sent += 1;
      const at = Date.now() - started;
      const req = request(url, { agent, timeout: 10_000 }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode === 200) result.ok += 1;
          else result.failures.push({ at, error: `HTTP ${res.statusCode}` });
          const by = String(res.headers['x-served-by'] ?? '');
          result.servedBy.set(by, (result.servedBy.get(by) ?? 0) + 1);
          const release = `${res.headers['x-web-release'] ?? ''}/${res.headers['x-app-version'] ?? ''}`;
          if (!result.releases.includes(release)) result.releases.push(release);
          resolve();
        });
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (error) => {
        result.failures.push({ at, error: error.message });
        resolve();
      });
      req.end();
    });
  const timer = setInterval(() => {
    if (Date.now() - started > maxSeconds * 1000) return clearInterval(timer);
    const p = one();
    inFlight.add(p);
    void p.then(() => inFlight.delete(p));
  }, 1000 / rate);
  return {
    async stop() {
      clearInterval(timer);
      await Promise.all([...inFlight]);
      agent.destroy();
      return result;
    },
  };
}
