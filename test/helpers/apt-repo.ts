// A flat apt repository for lab tests: .deb files built with dpkg-deb, Packages from
// dpkg-scanpackages, a Release with its sha256, and an InRelease signed by a key made in a temp
// GNUPGHOME (gone with the work folder). Served with serveLabDirectory, the hosts install from it
// for real, trusting only that key.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface TestPackage {
  name: string;
  version: string;
  description: string;
  /** Files the package installs: path relative to / -> content (a string: mode 0644). */
  files: Record<string, string | { content: string; mode: number }>;
}

export interface SignedRepository {
  /** The armored public key that signed InRelease. */
  key: string;
  /** An armored key that signed nothing (only when `otherKeyEmail` was given). */
  otherKey?: string;
}

export interface RepositoryOptions {
  /** Folder to fill (made when missing): the repository's root, served as it is. */
  repo: string;
  /** A scratch folder of the test (package trees and the GNUPGHOME go there). */
  work: string;
  label: string;
  /** Maintainer and key e-mail, e.g. fetch@lab.invalid. */
  email: string;
  /** The signing key's name, before the e-mail. */
  keyName: string;
  packages: TestPackage[];
  /** Also make a second key, that signs nothing, under this e-mail. */
  otherKeyEmail?: string;
}

const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

function buildDeb(pkg: TestPackage, email: string, work: string, into: string): void {
  const root = join(work, `pkg-${pkg.name}-${pkg.version}`);
  mkdirSync(join(root, 'DEBIAN'), { recursive: true });
  writeFileSync(join(root, 'DEBIAN/control'), `Package: ${pkg.name}\nVersion: ${pkg.version}\nArchitecture: all\nMaintainer: foobar-provision tests <${email}>\nDescription: ${pkg.description}\n`);
  for (const [path, file] of Object.entries(pkg.files)) {
    const { content, mode } = typeof file === 'string' ? { content: file, mode: 0o644 } : file;
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content, { mode });
  }
  execFileSync('dpkg-deb', ['--root-owner-group', '--build', root, join(into, `${pkg.name}_${pkg.version}_all.deb`)], { stdio: 'ignore' });
}

/** Builds the repository under `repo` and returns its key (and the unused other key). */
export function buildSignedRepository(opts: RepositoryOptions): SignedRepository {
  const { repo, work } = opts;
  mkdirSync(repo, { recursive: true });
  for (const pkg of opts.packages) buildDeb(pkg, opts.email, work, repo);
  const packages = execFileSync('dpkg-scanpackages', ['--multiversion', '.', '/dev/null'], { cwd: repo, stdio: ['ignore', 'pipe', 'ignore'] });
  writeFileSync(join(repo, 'Packages'), packages);
  const release = `Origin: foobar-provision tests\nLabel: ${opts.label}\nDate: ${new Date().toUTCString()}\nSHA256:\n ${sha256(packages)} ${packages.length} Packages\n`;
  writeFileSync(join(repo, 'Release'), release);
  const home = join(work, 'gnupg');
  mkdirSync(home, { mode: 0o700 });
  const gpg = (...args: string[]) => execFileSync('gpg', ['--homedir', home, '--batch', '--quiet', '--pinentry-mode', 'loopback', '--passphrase', '', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    gpg('--quick-gen-key', `${opts.keyName} <${opts.email}>`, 'ed25519', 'sign', '1d');
    gpg('--clearsign', '--output', join(repo, 'InRelease'), join(repo, 'Release'));
    const key = gpg('--armor', '--export', opts.email).toString('utf8');
    if (opts.otherKeyEmail === undefined) return { key };
    gpg('--quick-gen-key', `foobar-provision other key <${opts.otherKeyEmail}>`, 'ed25519', 'sign', '1d');
    return { key, otherKey: gpg('--armor', '--export', opts.otherKeyEmail).toString('utf8') };
  } finally {
    execFileSync('gpgconf', ['--homedir', home, '--kill', 'gpg-agent'], { stdio: 'ignore' });
  }
}
