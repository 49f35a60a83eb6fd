// The shared base image: a Debian minbase tree built once with mmdebstrap, prepared for the lab,
// and cached by a hash of everything that goes into it.

import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LabError } from '../errors.js';
import { run } from './exec.js';
import { unmountUnder } from './mounts.js';
import { IMAGE_CACHE_DIR } from './paths.js';

/** Installed in every host, so that hosts never need the internet. Services stay stock. */
export const IMAGE_PACKAGES = [
  'systemd', 'systemd-sysv', 'dbus', 'libpam-systemd', 'openssh-server', 'sudo', 'iproute2',
  'iputils-ping', 'procps', 'python3', 'haproxy', 'keepalived', 'nginx', 'ufw', 'mariadb-server',
  'prometheus-node-exporter', 'curl', 'iptables', 'ca-certificates', 'prometheus',
  'prometheus-nginx-exporter', 'prometheus-mysqld-exporter', 'python3-pymysql', 'openssl',
  'netcat-openbsd', 'less', 'prometheus-alertmanager',
];

/** Served (not installed) from /srv/lab-apt, so `apt-get install tree` inside a host runs for real. */
export const LOCAL_REPO_PACKAGES = ['tree', 'jq', 'libjq1', 'libonig5'];

export const LOCAL_REPO_DIR = '/srv/lab-apt';

/** The unprivileged user playbooks connect as; `become` goes through its passwordless sudo. */
export const LAB_USER = 'deploy';

// Runs on the machine as an mmdebstrap customize hook: $1 is the new tree, $2 the local .debs.
export const PREP_SCRIPT = `set -eu
root="$1"; debs="$2"

# The unprivileged user, with passwordless sudo checked by visudo before it counts.
chroot "$root" useradd --create-home --shell /bin/bash ${LAB_USER}
printf '%s ALL=(ALL:ALL) NOPASSWD: ALL\\n' ${LAB_USER} > "$root/etc/sudoers.d/${LAB_USER}"
chmod 0440 "$root/etc/sudoers.d/${LAB_USER}"
chroot "$root" visudo -cf /etc/sudoers.d/${LAB_USER}

# Each host gets its own networkd file in its overlay.
chroot "$root" systemctl enable systemd-networkd

# Identity is per host: no machine-id and no SSH host keys in the shared tree.
: > "$root/etc/machine-id"
rm -f "$root"/etc/ssh/ssh_host_*
cat > "$root/etc/systemd/system/lab-ssh-host-keys.service" <<'UNIT'
[Unit]
Description=Make this host's own SSH host keys on its first boot
Before=ssh.service
ConditionPathExists=!/etc/ssh/ssh_host_ed25519_key

[Service]
Type=oneshot
ExecStart=/usr/bin/ssh-keygen -A

[Install]
WantedBy=multi-user.target ssh.service
UNIT
chroot "$root" systemctl enable lab-ssh-host-keys.service

# apt sees only the local repository: hosts have no route to a mirror.
rm -f "$root/etc/apt/sources.list" "$root"/etc/apt/sources.list.d/*
mkdir -p "$root${LOCAL_REPO_DIR}"
cp "$debs"/*.deb "$root${LOCAL_REPO_DIR}/"
(cd "$root${LOCAL_REPO_DIR}" && dpkg-scanpackages --multiversion . /dev/null > Packages 2>/dev/null)
echo 'deb [trusted=yes] file:${LOCAL_REPO_DIR} ./' > "$root/etc/apt/sources.list.d/lab-apt.list"
rm -rf "$root"/var/lib/apt/lists/*
`;

export interface BaseImage {
  hash: string;
  /** The tree used as every host's lower layer. */
  rootfs: string;
}

export function imageHash(): string {
  const h = createHash('sha256');
  h.update(JSON.stringify({ v: 1, suite: 'bookworm', IMAGE_PACKAGES, LOCAL_REPO_PACKAGES, PREP_SCRIPT }));
  return h.digest('hex').slice(0, 16);
}

export function imagePaths(hash = imageHash()): BaseImage {
  return { hash, rootfs: path.join(IMAGE_CACHE_DIR, hash, 'rootfs') };
}

/** The machine's Debian mirror as one-line apt sources, read from its deb822 sources file. */
export async function machineSources(file = '/etc/apt/sources.list.d/debian.sources'): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new LabError(`cannot read ${file} to find the Debian mirror`, 'the lab builds its image from the mirror in the machine\'s deb822 apt sources');
  }
  const lines: string[] = [];
  for (const stanza of text.split(/\n\s*\n/)) {
    const field = (k: string): string =>
      (stanza.match(new RegExp(`^${k}:\\s*(.*)$`, 'mi'))?.[1] ?? '').trim();
    if (!field('Types').split(/\s+/).includes('deb')) continue;
    const signed = field('Signed-By');
    const opts = signed.startsWith('/') ? `[signed-by=${signed}] ` : '';
    for (const uri of field('URIs').split(/\s+/).filter(Boolean)) {
      for (const suite of field('Suites').split(/\s+/).filter(Boolean)) {
        lines.push(`deb ${opts}${uri} ${suite} ${field('Components')}`);
      }
    }
  }
  if (lines.length === 0) throw new LabError(`no "Types: deb" entry in ${file}`, 'configure a Debian mirror in the machine\'s apt sources');
  return lines;
}

/** Removes build directories left by a run that crashed (their builder pid is gone); the
 *  vagrant box cache uses the same `.build-HASH-PID` convention. */
export async function removeStaleBuilds(cacheDir = IMAGE_CACHE_DIR): Promise<void> {
  for (const entry of await readdir(cacheDir)) {
    const m = /^\.build-[0-9a-f]+-(\d+)$/.exec(entry);
    if (!m) continue;
    if (existsSync(`/proc/${m[1]}`)) continue;
    const dir = path.join(cacheDir, entry);
    await unmountUnder(dir); // mmdebstrap mounts /proc, /sys and /dev inside the tree while it works
    await rm(dir, { recursive: true, force: true });
  }
}

export function isImageReady(image = imagePaths()): boolean {
  return existsSync(path.join(IMAGE_CACHE_DIR, image.hash, 'ready'));
}

/** Returns the cached image, building it first when missing. */
export async function ensureImage(log: (line: string) => void): Promise<{ image: BaseImage; built: boolean }> {
  const image = imagePaths();
  if (isImageReady(image)) return { image, built: false };

  await mkdir(IMAGE_CACHE_DIR, { recursive: true });
  await removeStaleBuilds();
  const sources = await machineSources();
  const buildDir = path.join(IMAGE_CACHE_DIR, `.build-${image.hash}-${process.pid}`);
  const work = await mkdtemp(path.join(tmpdir(), 'foobar-lab-'));
  try {
    await mkdir(buildDir, { recursive: true });
    const debs = path.join(work, 'debs');
    await mkdir(debs);
    log(`image: downloading ${LOCAL_REPO_PACKAGES.join(', ')} for the hosts' local apt repository`);
    // apt-get download has no output-directory option: it writes into its working directory.
    await run('apt-get', ['download', ...LOCAL_REPO_PACKAGES], { cwd: debs, hint: 'run `apt-get update` on the machine' });
    const prep = path.join(work, 'prep.sh');
    await writeFile(prep, PREP_SCRIPT);

    log(`image: building ${image.hash} with mmdebstrap (${IMAGE_PACKAGES.length} packages, about a minute)`);
    await run(
      'mmdebstrap',
      [
        '--variant=minbase',
        '--mode=root',
        `--include=${IMAGE_PACKAGES.join(',')}`,
        '--aptopt=Acquire::Retries "3"',
        `--customize-hook=sh ${prep} "$1" ${debs}`,
        'bookworm',
        path.join(buildDir, 'rootfs'),
        ...sources,
      ],
      { hint: 'check that the machine reaches its Debian mirror (`apt-get update`)' },
    );
    await writeFile(path.join(buildDir, 'ready'), `${new Date().toISOString()}\n`);
    // A crash before this rename leaves only a .build-* directory, never a half image.
    await rename(buildDir, path.join(IMAGE_CACHE_DIR, image.hash));
    log(`image: ready at ${image.rootfs}`);
    return { image, built: true };
  } catch (e) {
    await unmountUnder(buildDir).catch(() => undefined);
    await rm(buildDir, { recursive: true, force: true });
    throw e;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
