// The generated probe run for real by /bin/sh against a temp dir, this machine's dpkg and
// systemctl (which fails here: PID 1 is not systemd, so services must come back 'unknown').
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProbe, ProbeOutputError } from '../../src/facts/probe.js';
import type { FactQuery } from '../../src/facts/types.js';
import { emptyFacts } from '../../src/facts/types.js';

const sha = (s: string | Buffer): string => createHash('sha256').update(s).digest('hex');
const run = (script: string): string => execFileSync('/bin/sh', ['-c', script], { encoding: 'utf8' });

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'facts-probe-'));
  writeFileSync(join(dir, 'with space.conf'), 'hello\n');
  chmodSync(join(dir, 'with space.conf'), 0o640);
  writeFileSync(join(dir, 'same.conf'), 'same\n');
  writeFileSync(join(dir, "it's.txt"), 'quote\n');
  writeFileSync(join(dir, 'big.bin'), Buffer.alloc(1024 * 1024 + 10, 1));
  mkdirSync(join(dir, 'sub dir'));
  symlinkSync('with space.conf', join(dir, 'link'));
  symlinkSync('nowhere', join(dir, 'dangling'));
  writeFileSync(join(dir, 'pending'), 'web\treload nginx\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('probe run by /bin/sh', () => {
  it('gathers files, services, packages, checks, system and pending handlers in one script', () => {
    const p = (name: string): string => join(dir, name);
    const queries: FactQuery[] = [
      { kind: 'file', path: p('with space.conf'), expectSha256: sha('new content\n'), fetchContent: true },
      { kind: 'file', path: p('same.conf'), expectSha256: sha('same\n'), fetchContent: true },
      { kind: 'file', path: p("it's.txt"), expectSha256: sha('other'), fetchContent: false },
      { kind: 'file', path: p('big.bin'), expectSha256: sha('x'), fetchContent: true },
      { kind: 'file', path: p('sub dir') },
      { kind: 'file', path: p('link') },
      { kind: 'file', path: p('dangling') },
      { kind: 'file', path: p('missing') },
      { kind: 'file', path: p('missing') },
      { kind: 'service', unit: 'nginx' },
      { kind: 'service', unit: 'nginx' },
      { kind: 'packages', names: ['coreutils', 'no-such-pkg-xyz'] },
      { kind: 'packages', names: ['coreutils'], candidates: true },
      { kind: 'check', id: 'true', command: 'true' },
      { kind: 'check', id: 'exit 3', command: 'exit 3' },
      { kind: 'check', id: 'reads stdin', command: 'cat' },
    ];
    const probe = buildProbe(queries, { system: true, pendingHandlerFiles: [p('pending'), p('no-such-pending')] });
    // Deduplicated: one stat, one sha256sum, one systemctl, one dpkg-query.
    expect(probe.script.match(/\bstat --printf/g)).toHaveLength(1);
    expect(probe.script.match(/\bsha256sum\b/g)).toHaveLength(1);
    expect(probe.script.match(/systemctl show/g)).toHaveLength(1);
    expect(probe.script).not.toContain('--all');
    expect(probe.script.match(/dpkg-query/g)).toHaveLength(1);
    expect(probe.script.match(/apt-cache policy/g)).toHaveLength(1);

    const facts = probe.parse(run(probe.script));

    const changed = facts.files.get(p('with space.conf'));
    expect(changed).toMatchObject({ exists: true, type: 'file', mode: '0640', size: 6, sha256: sha('hello\n') });
    expect(changed?.content?.toString()).toBe('hello\n');
    // The hash matched: no content travels.
    expect(facts.files.get(p('same.conf'))).toMatchObject({ sha256: sha('same\n') });
    expect(facts.files.get(p('same.conf'))?.content).toBeUndefined();
    // Not asked (sensitive): no content even though it differs.
    expect(facts.files.get(p("it's.txt"))?.content).toBeUndefined();
    expect(facts.files.get(p("it's.txt"))?.sha256).toBe(sha('quote\n'));
    // Too large to diff.
    expect(facts.files.get(p('big.bin'))?.content).toBeUndefined();
    expect(facts.files.get(p('sub dir'))).toMatchObject({ exists: true, type: 'directory' });
    expect(facts.files.get(p('link'))).toMatchObject({ type: 'link', linkTarget: 'with space.conf', sha256: sha('hello\n') });
    expect(facts.files.get(p('dangling'))).toMatchObject({ type: 'link', linkTarget: 'nowhere' });
    expect(facts.files.get(p('dangling'))?.sha256).toBeUndefined();
    expect(facts.files.get(p('missing'))).toEqual({ path: p('missing'), exists: false });

    // systemctl cannot talk to systemd in this container.
    const nginx = facts.services.get('nginx');
    expect(['unknown', 'not-found']).toContain(nginx?.loadState);

    expect(facts.packages.get('coreutils')).toMatchObject({ installed: true });
    expect(facts.packages.get('coreutils')?.version).toMatch(/^\d/);
    expect(facts.packages.get('coreutils')?.candidate).toMatch(/^\d/);
    expect(facts.packages.get('no-such-pkg-xyz')).toEqual({ name: 'no-such-pkg-xyz', installed: false });

    expect(facts.checks.get('true')).toBe(0);
    expect(facts.checks.get('exit 3')).toBe(3);
    expect(facts.checks.get('reads stdin')).toBe(0);

    expect(facts.system).toMatchObject({ user: expect.any(String), initSystem: expect.stringMatching(/systemd|other/) });
    expect(facts.system?.kernel).not.toBe('');
    expect(facts.pendingHandlers).toEqual(['web\treload nginx']);
  });

  it('runs from stdin (sh -s) without a check eating the rest of the script', () => {
    const probe = buildProbe([{ kind: 'check', id: 'c', command: 'cat >/dev/null' }, { kind: 'file', path: '/' }], { system: false, pendingHandlerFiles: [] });
    const out = execFileSync('/bin/sh', ['-s'], { input: probe.script, encoding: 'utf8' });
    const facts = probe.parse(out);
    expect(facts.checks.get('c')).toBe(0);
    expect(facts.files.get('/')?.type).toBe('directory');
  });

  it('tells a symlink to a directory (a fine parent, as /var/run -> /run) from other links', () => {
    symlinkSync('sub dir', join(dir, 'dir link'));
    symlinkSync('dir link', join(dir, 'link to dir link'));
    const paths = ['dir link', 'link to dir link', 'link', 'dangling', 'sub dir'].map((n) => join(dir, n));
    const probe = buildProbe(paths.map((path) => ({ kind: 'file', path })), { system: false, pendingHandlerFiles: [] });
    const facts = probe.parse(run(probe.script));
    expect(paths.map((p) => [facts.files.get(p)?.type, facts.files.get(p)?.linkToDirectory])).toEqual([
      ['link', true],
      ['link', true],
      ['link', undefined],
      ['link', undefined],
      ['directory', undefined],
    ]);
  });

  it('an empty play still yields a valid probe', () => {
    const probe = buildProbe([], { system: false, pendingHandlerFiles: [] });
    expect(probe.parse(run(probe.script))).toEqual(emptyFacts());
  });

  it('rejects truncated output', () => {
    const probe = buildProbe([{ kind: 'file', path: '/etc' }], { system: true, pendingHandlerFiles: [] });
    const out = run(probe.script);
    expect(() => probe.parse(out.slice(0, out.length / 2))).toThrow(ProbeOutputError);
  });

  it('refuses paths with newlines', () => {
    expect(() => buildProbe([{ kind: 'file', path: '/tmp/a\nb' }], { system: false, pendingHandlerFiles: [] })).toThrow(/newline/);
  });
});
