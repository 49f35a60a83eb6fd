import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { FixedOrderSequencer } from './test/sequencer.js';

// Four layers of tests, run one layer after another (groupOrder): unit (no host), integration
// (a real sshd on loopback), end-to-end (the lab's real systemd hosts; its global setup
// brings the lab up or reuses it), then VMs (vagrant-libvirt). End-to-end files share the lab, so they run one at a time in
// a fixed order. No layer reads the machine's ~/.ssh/config (FOOBAR_SSH_CONFIG=none): a test
// that wants an ssh config names its own, so an operator's Host * block cannot change a result.
const NO_SSH_CONFIG = { FOOBAR_SSH_CONFIG: 'none' };

export default defineConfig({
  test: {
    // Root-level: vitest takes the sequencer from the root config, not from a project.
    sequence: { sequencer: FixedOrderSequencer },
    // Integration files mostly wait on sshd and child processes: two at once (one per core here)
    // cut that layer by a third without starving the tests that cut connections on a deadline.
    // e2e files still run one at a time.
    maxWorkers: 2,
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'], testTimeout: 20_000, sequence: { groupOrder: 0 }, env: NO_SSH_CONFIG } },
      // examples/: code written as a project writes it, importing the package by its name.
      {
        resolve: { alias: { 'foobar-provision': fileURLToPath(new URL('./src/index.ts', import.meta.url)) } },
        test: { name: 'examples', include: ['examples/**/*.test.ts'], testTimeout: 20_000, sequence: { groupOrder: 0 }, env: NO_SSH_CONFIG },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          sequence: { groupOrder: 1 },
          env: NO_SSH_CONFIG,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          globalSetup: ['test/e2e/global-setup.ts'],
          testTimeout: 600_000,
          hookTimeout: 900_000,
          fileParallelism: false,
          sequence: { groupOrder: 2 },
          env: NO_SSH_CONFIG,
        },
      },
      // Last: real VMs under vagrant-libvirt (software emulation when KVM does not boot here).
      {
        test: {
          name: 'vm',
          include: ['test/vm/**/*.test.ts'],
          testTimeout: 900_000,
          hookTimeout: 1_800_000,
          fileParallelism: false,
          sequence: { groupOrder: 3 },
          env: NO_SSH_CONFIG,
        },
      },
    ],
  },
});
