// Brings the lab up before the end-to-end tests, or reuses the hosts already running.
// A lab that cannot come up fails the run: these tests are never skipped.

import { fileURLToPath } from 'node:url';
import { labUp } from '../../src/lab/index.js';

export const LAB_INVENTORY = fileURLToPath(new URL('../../inventory/lab.yml', import.meta.url));

export default async function setup(): Promise<void> {
  try {
    const report = await labUp({ inventoryPath: LAB_INVENTORY, log: (line) => console.log(`lab: ${line}`) });
    const booted = report.hosts.filter((h) => h.started).length;
    console.log(`lab: ${report.hosts.length} hosts ready (${booted} booted) in ${report.seconds.toFixed(1)} s`);
  } catch (e) {
    const hint = (e as { hint?: string }).hint;
    throw new Error(`the lab did not come up, so the end-to-end tests cannot run:\n${(e as Error).message}${hint ? `\nhint: ${hint}` : ''}`);
  }
}
