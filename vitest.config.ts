import { defineConfig } from 'vitest/config';

// Three layers of tests: unit (no host), integration (a real sshd on loopback), and
// end-to-end (the lab's real systemd hosts; its global setup brings the lab up or reuses it).
export default defineConfig({
  test: {
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'], testTimeout: 20_000 } },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          globalSetup: ['test/e2e/global-setup.ts'],
          testTimeout: 600_000,
          hookTimeout: 900_000,
          // The lab is one shared set of hosts: files run one after another.
          fileParallelism: false,
        },
      },
    ],
  },
});
