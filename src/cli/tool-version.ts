// The tool's version, from its package.json (src/cli and dist/cli are both two levels down).
import { createRequire } from 'node:module';

export function toolVersion(): string {
  try {
    return String((createRequire(import.meta.url)('../../package.json') as { version?: unknown }).version ?? 'unknown');
  } catch {
    return 'unknown';
  }
}
