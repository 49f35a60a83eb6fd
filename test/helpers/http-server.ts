// A small static HTTP server for lab tests, bound to the controller's side of the lab bridge
// (the inventory's lab.gateway) on a random port: hosts fetch from it, nothing else can reach it.
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, normalize, sep } from 'node:path';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { LAB_INVENTORY } from './lab.js';

export interface LabHttpServer {
  /** http://GATEWAY:PORT, no trailing slash. */
  base: string;
  /** Paths requested so far, in order. */
  requests: string[];
  close(): Promise<void>;
}

export function labGateway(): string {
  const inv = parse(readFileSync(LAB_INVENTORY, 'utf8')) as { lab: { gateway: string } };
  return inv.lab.gateway;
}

/** Serves the files under `root` (GET and HEAD only; no listing; nothing outside root). */
export async function serveLabDirectory(root: string, address = labGateway()): Promise<LabHttpServer> {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0] ?? '/');
    requests.push(path);
    const file = normalize(join(root, path));
    if ((req.method !== 'GET' && req.method !== 'HEAD') || !file.startsWith(root + sep)) return void res.writeHead(404).end();
    readFile(file).then(
      (data) => res.writeHead(200, { 'content-length': data.length }).end(req.method === 'HEAD' ? undefined : data),
      () => res.writeHead(404).end(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, address, resolve);
  });
  const { port } = server.address() as AddressInfo;
  return { base: `http://${address}:${port}`, requests, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
