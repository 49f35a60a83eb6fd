// apt_repository: the deb822 file, the key checks and the plan, from fake facts.
import { describe, expect, it } from 'vitest';
import { aptRepositoryModule, type ResolvedAptRepository } from '../../src/modules/apt-repository.js';
import { classifyKey } from '../../src/modules/apt-sources.js';
import type { ResolveContext } from '../../src/modules/types.js';
import { ctx, dir, facts, file, missing, where } from '../fixtures/facts/fake-facts.js';

const KEY = '-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmDMEZfake\n=abcd\n-----END PGP PUBLIC KEY BLOCK-----\n';
const ARGS = { name: 'lab-extra', uris: 'http://10.213.0.1:8080/repo/', suites: './', key: KEY };
const SOURCES = '# Managed by foobar-provision (apt_repository lab-extra)\nTypes: deb\nURIs: http://10.213.0.1:8080/repo/\nSuites: ./\nSigned-By: /etc/apt/keyrings/lab-extra.asc\n';

const resolveCtx: ResolveContext = { vars: {}, secretVarNames: new Set(), searchPath: [], evaluate: () => true, where: where() };
const resolve = async (raw: Record<string, unknown>): Promise<ResolvedAptRepository> =>
  aptRepositoryModule.resolve(aptRepositoryModule.validate(raw, where(Object.keys(raw))), resolveCtx);

describe('apt_repository', () => {
  it('writes a deb822 source signed by its own key file', async () => {
    const r = await resolve(ARGS);
    expect(r.sources?.content).toBe(SOURCES);
    expect(r.key?.path).toBe('/etc/apt/keyrings/lab-extra.asc');
    const full = await resolve({ name: 'vendor', uris: ['https://a.example/debian', 'https://b.example/debian'], suites: 'bookworm', components: ['main', 'contrib'], architectures: 'amd64', key: KEY });
    expect(full.sources?.content).toContain('URIs: https://a.example/debian https://b.example/debian\nSuites: bookworm\nComponents: main contrib\nArchitectures: amd64\nSigned-By: /etc/apt/keyrings/vendor.asc\n');
  });

  it('new: key, source and an update of this source only; assume makes the next plan ok', async () => {
    const r = await resolve(ARGS);
    const host = facts({ files: [missing('/etc/apt/sources.list.d/lab-extra.sources'), missing('/etc/apt/keyrings/lab-extra.asc'), missing('/etc/apt/keyrings/lab-extra.gpg'), dir('/etc/apt/keyrings')] });
    const first = aptRepositoryModule.plan(r, host, ctx);
    expect(first).toMatchObject({
      status: 'changed',
      summary: 'install key /etc/apt/keyrings/lab-extra.asc, create /etc/apt/sources.list.d/lab-extra.sources, apt-get update of it',
      diff: { path: '/etc/apt/sources.list.d/lab-extra.sources', before: null, after: SOURCES, metaChanges: ['key /etc/apt/keyrings/lab-extra.asc is installed'] },
    });
    if (first.status !== 'changed') return;
    expect(first.steps).toHaveLength(3);
    expect(first.steps[2]?.command).toContain('update -o Dir::Etc::SourceList=/etc/apt/sources.list.d/lab-extra.sources -o Dir::Etc::SourceParts=- -o APT::Get::List-Cleanup=0');
    first.assume?.(host);
    expect(aptRepositoryModule.plan(r, host, ctx)).toEqual({ status: 'ok', reason: '/etc/apt/sources.list.d/lab-extra.sources and its key /etc/apt/keyrings/lab-extra.asc match' });
  });

  it('a hand-edited .sources: exactly that diff, the key left alone, then an update', async () => {
    const r = await resolve(ARGS);
    const edited = SOURCES.replace('Suites: ./', 'Suites: ./\nEnabled: no');
    const result = aptRepositoryModule.plan(r, facts({ files: [file('/etc/apt/sources.list.d/lab-extra.sources', edited), file('/etc/apt/keyrings/lab-extra.asc', KEY), missing('/etc/apt/keyrings/lab-extra.gpg')] }), ctx);
    expect(result).toMatchObject({ status: 'changed', summary: 'update /etc/apt/sources.list.d/lab-extra.sources, apt-get update of it', diff: { before: edited, after: SOURCES, metaChanges: [] } });
    expect(result.status === 'changed' && result.steps).toHaveLength(2);
  });

  it('a changed key alone: the key file diff', async () => {
    const r = await resolve(ARGS);
    const old = KEY.replace('fake', 'old');
    const result = aptRepositoryModule.plan(r, facts({ files: [file('/etc/apt/sources.list.d/lab-extra.sources', SOURCES), file('/etc/apt/keyrings/lab-extra.asc', old), missing('/etc/apt/keyrings/lab-extra.gpg')] }), ctx);
    expect(result).toMatchObject({ status: 'changed', summary: 'update key /etc/apt/keyrings/lab-extra.asc, apt-get update of it', diff: { path: '/etc/apt/keyrings/lab-extra.asc', before: old, after: KEY } });
  });

  it('absent: removes what exists, ok when nothing does', async () => {
    const r = await resolve({ name: 'lab-extra', state: 'absent' });
    const result = aptRepositoryModule.plan(r, facts({ files: [file('/etc/apt/sources.list.d/lab-extra.sources', SOURCES), file('/etc/apt/keyrings/lab-extra.asc', KEY), missing('/etc/apt/keyrings/lab-extra.gpg')] }), ctx);
    expect(result).toMatchObject({ status: 'changed', steps: [{ command: 'rm -f -- /etc/apt/sources.list.d/lab-extra.sources /etc/apt/keyrings/lab-extra.asc' }] });
    expect(aptRepositoryModule.plan(r, facts({ files: ['/etc/apt/sources.list.d/lab-extra.sources', '/etc/apt/keyrings/lab-extra.asc', '/etc/apt/keyrings/lab-extra.gpg'].map(missing) }), ctx)).toEqual({ status: 'ok', reason: 'no source or key named lab-extra' });
  });

  it('keys: armored or binary public keys only', () => {
    expect(classifyKey(Buffer.from(KEY))).toEqual({ armored: true });
    expect(classifyKey(Buffer.concat([Buffer.from([0x99, 0x01, 0x0d]), Buffer.alloc(40, 1)]))).toEqual({ armored: false });
    expect(classifyKey(Buffer.from('-----BEGIN PGP PRIVATE KEY BLOCK-----\nx\n-----END PGP PRIVATE KEY BLOCK-----\n'))).toMatchObject({ problem: expect.stringMatching(/PRIVATE key/) });
    expect(classifyKey(Buffer.from('<html>404</html>'))).toMatchObject({ problem: expect.stringMatching(/not an OpenPGP public key/) });
    expect(classifyKey(Buffer.from('-----BEGIN PGP PUBLIC KEY BLOCK-----\nabc\n'))).toMatchObject({ problem: expect.stringMatching(/without its END/) });
  });

  it('hostile input is refused at its argument, before any host', async () => {
    const bad = (raw: Record<string, unknown>) => () => aptRepositoryModule.validate(raw, where(Object.keys(raw)));
    expect(bad({ ...ARGS, name: '../../etc/passwd' })).toThrow(/not a repository name/);
    expect(bad({ ...ARGS, name: 'a/b' })).toThrow(/not a repository name/);
    expect(bad({ ...ARGS, name: 'a..b' })).toThrow(/not a repository name/);
    expect(bad({ ...ARGS, name: '-rf' })).toThrow(/not a repository name/);
    expect(bad({ ...ARGS, uris: 'http://h/x\nSigned-By: /dev/null' })).toThrow(/without spaces, newlines/);
    expect(bad({ ...ARGS, uris: 'ftp://h/x' })).toThrow(/http or https or file URL/);
    expect(bad({ ...ARGS, uris: 'cdrom:[x]/' })).toThrow(/URL/);
    expect(bad({ ...ARGS, suites: 'bookworm\nEnabled: no' })).toThrow(/is not a suite/);
    expect(bad({ ...ARGS, suites: 'bookworm' })).toThrow(/missing required argument "components"/);
    expect(bad({ ...ARGS, components: 'main' })).toThrow(/takes no components/);
    expect(bad({ name: 'x', uris: 'https://h/', suites: './' })).toThrow(/missing "key" or "key_src"/);
    expect(bad({ ...ARGS, key_src: 'k.asc' })).toThrow(/not both/);
    await expect(resolve({ ...ARGS, key: 'not a key' })).rejects.toThrow(/the key is not an OpenPGP public key/);
  });
});
