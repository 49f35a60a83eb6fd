// What apt_repository writes: a deb822 .sources file whose Signed-By names the key file the same
// task installs, and the checks that keep every field one clean token.
import { createHash } from 'node:crypto';

export interface AptSource {
  name: string;
  uris: string[];
  suites: string[];
  components: string[];
  architectures: string[];
}

export const SOURCES_DIR = '/etc/apt/sources.list.d';
export const KEYRINGS_DIR = '/etc/apt/keyrings';

/** A name that is one path component of ours: no '/', no '..', nothing a shell or apt reads. */
export const REPOSITORY_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
export const SUITE = /^(?:\.\/?|[A-Za-z0-9][A-Za-z0-9._~+-]*(?:\/[A-Za-z0-9._~+-]+)*\/?)$/;
export const COMPONENT = /^[A-Za-z0-9][A-Za-z0-9._+-]*(?:\/[A-Za-z0-9._+-]+)*$/;
export const ARCHITECTURE = /^[a-z0-9][a-z0-9-]*$/;

export const sourcesPath = (name: string): string => `${SOURCES_DIR}/${name}.sources`;
export const keyPath = (name: string, armored: boolean): string => `${KEYRINGS_DIR}/${name}.${armored ? 'asc' : 'gpg'}`;

export function sourcesContent(source: AptSource, signedBy: string): string {
  const lines = [
    `# Managed by foobar-provision (apt_repository ${source.name})`,
    'Types: deb',
    `URIs: ${source.uris.join(' ')}`,
    `Suites: ${source.suites.join(' ')}`,
    ...(source.components.length > 0 ? [`Components: ${source.components.join(' ')}`] : []),
    ...(source.architectures.length > 0 ? [`Architectures: ${source.architectures.join(' ')}`] : []),
    `Signed-By: ${signedBy}`,
  ];
  return `${lines.join('\n')}\n`;
}

export type KeyKind = { armored: true } | { armored: false } | { problem: string };

/** An OpenPGP public key, armored or binary; anything else (a private key, HTML, a typo) is refused. */
export function classifyKey(bytes: Buffer): KeyKind {
  const text = bytes.toString('latin1');
  if (/-----BEGIN PGP PRIVATE KEY BLOCK-----/.test(text)) return { problem: 'is a PRIVATE key block; apt needs the public key only (gpg --armor --export KEYID)' };
  if (text.trimStart().startsWith('-----BEGIN PGP PUBLIC KEY BLOCK-----')) {
    if (!/-----END PGP PUBLIC KEY BLOCK-----\s*$/.test(text)) return { problem: 'is an armored key block without its END line' };
    return { armored: true };
  }
  // A binary key starts with a public-key packet: old format tag 6 (0x98-0x9b) or new format 0xc6.
  const first = bytes[0];
  if (bytes.length >= 16 && first !== undefined && ((first & 0xfc) === 0x98 || first === 0xc6)) return { armored: false };
  return { problem: 'is not an OpenPGP public key (neither an armored "-----BEGIN PGP PUBLIC KEY BLOCK-----" nor a binary key)' };
}

export const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');
