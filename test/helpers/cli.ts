// Runs the real, built CLI as a user would, and captures what it prints.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../bin/foobar-provision.js', import.meta.url));

/**
 * Every "host" of the integration tests is this one machine: each test file gets its own run-lock
 * folder (as a real host has its own /run/lock), so test files running side by side never lock
 * each other out, while runs within one file do, as runs on one real host would.
 */
export const LOCK_DIR = mkdtempSync(join(tmpdir(), 'fbp-lock-'));
chmodSync(LOCK_DIR, 0o1777);
/**
 * Each test file's own history folder on its "hosts" (created, 0700, by the first run that changes
 * one). Never inside LOCK_DIR: a root run creating it would create LOCK_DIR on a lab host too,
 * 0700, where a login user's run then could not take its lock.
 */
const HISTORY_PARENT = mkdtempSync(join(tmpdir(), 'fbp-history-'));
export const HISTORY_DIR = join(HISTORY_PARENT, 'log');
process.on('exit', () => {
  rmSync(LOCK_DIR, { recursive: true, force: true });
  rmSync(HISTORY_PARENT, { recursive: true, force: true });
});

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Promise<CliResult> {
  return startCli(args, opts).done;
}

/** The CLI as a running process, for tests that signal it. */
export function startCli(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): { child: ChildProcess; done: Promise<CliResult> } {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: opts.cwd,
    env: { ...process.env, NO_COLOR: '1', FOOBAR_PROVISION_LOCK_DIR: LOCK_DIR, FOOBAR_PROVISION_HISTORY_DIR: HISTORY_DIR, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const done = new Promise<CliResult>((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
  return { child, done };
}

/** The `--json` report of a run. */
export interface JsonReport {
  mode: string;
  changes: number;
  hosts: Array<{ host: string; status: string; ok: number; changed: number; failed: number; unreachable: boolean; roundTrips: number; message?: string }>;
  results: Array<{ host: string; task: string; outcome: string; reason: string; handler?: boolean; output?: string; diff?: { path: string; patch: string; sensitive: boolean } }>;
  stopped?: string;
}

export function parseReport(stdout: string): JsonReport {
  return JSON.parse(stdout) as JsonReport;
}
