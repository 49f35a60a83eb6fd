// The local vagrant-libvirt box: the lab image's packages plus Debian's cloud kernel, built with
// mmdebstrap into an ext4 image, booted by direct kernel boot (kernel and initrd kept beside the
// box, named in the box's own Vagrantfile). Direct boot needs no partition table, bootloader or
// loop device, so the build works inside a container; `mkfs.ext4 -d` fills the image from the tree.
// Cached by a hash of everything that goes into it, like the lab image.

import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ensureLabKey } from '../lab/keys.js';
import { IMAGE_PACKAGES, LOCAL_REPO_PACKAGES, machineSources, PREP_SCRIPT, removeStaleBuilds } from '../lab/image.js';
import { run } from '../lab/exec.js';
import { unmountUnder } from '../lab/mounts.js';
import { BOX_CACHE_DIR, BOX_KEY, BOX_NAME_FILE, DEPLOY_KEY, VAGRANT_STATE_DIR } from './paths.js';

/** On top of the lab image: a kernel for a real VM (virtio drivers built in, small). */
export const BOX_EXTRA_PACKAGES = ['linux-image-cloud-amd64', 'initramfs-tools'];

/** The disk the VM sees; the tree takes about half of it, the rest is room for the stack. */
const DISK_GIB = 6;

// Runs after the lab's own hook: the Vagrant conventions, a serial console, DHCP on the
// management interface, and the host keys printed to the console, which is how the controller
// learns them without trusting the network (the serial log is written by libvirt on the machine).
const VM_PREP_SCRIPT = `set -eu
root="$1"; boxkey="$2"

chroot "$root" useradd --create-home --shell /bin/bash vagrant
printf 'vagrant ALL=(ALL:ALL) NOPASSWD: ALL\\n' > "$root/etc/sudoers.d/vagrant"
chmod 0440 "$root/etc/sudoers.d/vagrant"
chroot "$root" visudo -cf /etc/sudoers.d/vagrant
install -d -m 0700 "$root/home/vagrant/.ssh"
install -m 0600 "$boxkey" "$root/home/vagrant/.ssh/authorized_keys"
chroot "$root" chown -R vagrant:vagrant /home/vagrant/.ssh

printf '/dev/vda / ext4 defaults,errors=remount-ro 0 1\\n' > "$root/etc/fstab"
echo debian > "$root/etc/hostname"

# Under software emulation every second of boot counts: one host key type (RSA takes long to
# make), and the stack's services off until a playbook enables the ones a host's roles run.
mkdir -p "$root/etc/systemd/system/lab-ssh-host-keys.service.d"
printf '[Service]\\nExecStart=\\nExecStart=/usr/bin/ssh-keygen -q -t ed25519 -N "" -f /etc/ssh/ssh_host_ed25519_key\\n' \\
  > "$root/etc/systemd/system/lab-ssh-host-keys.service.d/ed25519-only.conf"
printf 'HostKey /etc/ssh/ssh_host_ed25519_key\\n' > "$root/etc/ssh/sshd_config.d/foobar-host-key.conf"
for unit in mariadb prometheus prometheus-alertmanager prometheus-mysqld-exporter prometheus-nginx-exporter \\
  haproxy nginx keepalived apt-daily.timer apt-daily-upgrade.timer man-db.timer e2scrub_all.timer fstrim.timer; do
  chroot "$root" systemctl disable "$unit" 2>/dev/null || true
done
printf '[Match]\\nType=ether\\n\\n[Network]\\nDHCP=ipv4\\n' > "$root/etc/systemd/network/99-dhcp.network"

cat > "$root/usr/local/sbin/foobar-host-keys-to-console" <<'SCRIPT'
#!/bin/sh
for f in /etc/ssh/ssh_host_*_key.pub; do
  printf 'foobar-host-key: %s\\n' "$(cut -d' ' -f1,2 "$f")"
done > /dev/ttyS0
SCRIPT
chmod 0755 "$root/usr/local/sbin/foobar-host-keys-to-console"
cat > "$root/etc/systemd/system/foobar-host-keys-to-console.service" <<'UNIT'
[Unit]
Description=Print this host's public SSH host keys on the serial console
After=lab-ssh-host-keys.service
Before=ssh.service

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/foobar-host-keys-to-console

[Install]
WantedBy=multi-user.target
UNIT
chroot "$root" systemctl enable foobar-host-keys-to-console.service
`;

export interface Box {
  hash: string;
  dir: string;
  /** The name the box is added to Vagrant under: a new build is a new name, so a stale libvirt
   *  base volume of an older build is never reused. */
  name: string;
  boxFile: string;
  kernel: string;
  initrd: string;
}

export function boxHash(): string {
  const h = createHash('sha256');
  h.update(JSON.stringify({ v: 1, suite: 'bookworm', IMAGE_PACKAGES, LOCAL_REPO_PACKAGES, PREP_SCRIPT, BOX_EXTRA_PACKAGES, VM_PREP_SCRIPT, DISK_GIB }));
  return h.digest('hex').slice(0, 16);
}

export function boxPaths(hash = boxHash()): Box {
  const dir = path.join(BOX_CACHE_DIR, hash);
  return {
    hash,
    dir,
    name: `foobar/bookworm-${hash}`,
    boxFile: path.join(dir, 'foobar-bookworm.box'),
    kernel: path.join(dir, 'vmlinuz'),
    initrd: path.join(dir, 'initrd.img'),
  };
}

/** The Vagrantfile shipped inside the box: how to log in and how to boot it. */
export function boxVagrantfile(box: Box): string {
  const q = (s: string): string => JSON.stringify(s);
  return `# Written by \`foobar-provision vagrant box\`: how Vagrant logs in to this box and boots it.
Vagrant.configure("2") do |config|
  config.ssh.username = "vagrant"
  config.ssh.private_key_path = ${q(BOX_KEY)}
  config.ssh.insert_key = false
  config.vm.synced_folder ".", "/vagrant", disabled: true
  config.vm.provider :libvirt do |lv|
    lv.kernel = ${q(box.kernel)}
    lv.initrd = ${q(box.initrd)}
    lv.cmd_line = "root=/dev/vda rw console=ttyS0 net.ifnames=0 quiet"
    lv.disk_bus = "virtio"
  end
end
`;
}

async function newestBootFile(bootDir: string, prefix: string): Promise<string> {
  const names = (await readdir(bootDir)).filter((n) => n.startsWith(prefix)).sort();
  const last = names.at(-1);
  if (!last) throw new Error(`no ${prefix}* in ${bootDir}: the kernel package did not install`);
  return path.join(bootDir, last);
}

export function isBoxReady(box = boxPaths()): boolean {
  return existsSync(path.join(box.dir, 'ready'));
}

/** Builds the box into its cache directory unless it is there; a crash leaves only a .build-* dir. */
export async function ensureBox(log: (line: string) => void): Promise<{ box: Box; built: boolean }> {
  const box = boxPaths();
  await mkdir(VAGRANT_STATE_DIR, { recursive: true, mode: 0o755 });
  await ensureLabKey(BOX_KEY, log);
  await ensureLabKey(DEPLOY_KEY, log);
  if (isBoxReady(box)) return { box, built: false };

  // libvirt's qemu user reads the kernel and initrd: the directories on the way must be searchable.
  await mkdir(BOX_CACHE_DIR, { recursive: true, mode: 0o755 });
  await chmod(BOX_CACHE_DIR, 0o755);
  await removeStaleBuilds(BOX_CACHE_DIR);
  const sources = await machineSources();
  const build = path.join(BOX_CACHE_DIR, `.build-${box.hash}-${process.pid}`);
  try {
    const rootfs = path.join(build, 'rootfs');
    const debs = path.join(build, 'debs');
    await mkdir(debs, { recursive: true });
    await run('apt-get', ['download', ...LOCAL_REPO_PACKAGES], { cwd: debs, hint: 'run `apt-get update` on the machine' });
    await writeFile(path.join(build, 'lab-prep.sh'), PREP_SCRIPT);
    await writeFile(path.join(build, 'vm-prep.sh'), VM_PREP_SCRIPT);
    const packages = [...IMAGE_PACKAGES, ...BOX_EXTRA_PACKAGES];
    log(`box: building ${box.hash} with mmdebstrap (${packages.length} packages and a kernel, a minute or two)`);
    await run('mmdebstrap', [
      '--variant=minbase', '--mode=root', `--include=${packages.join(',')}`,
      '--aptopt=Acquire::Retries "3"',
      `--customize-hook=sh ${path.join(build, 'lab-prep.sh')} "$1" ${debs}`,
      `--customize-hook=sh ${path.join(build, 'vm-prep.sh')} "$1" ${BOX_KEY}.pub`,
      'bookworm', rootfs, ...sources,
    ], { hint: 'check that the machine reaches its Debian mirror (`apt-get update`)' });

    const out = path.join(build, 'box');
    await mkdir(out);
    await copyFile(await newestBootFile(path.join(rootfs, 'boot'), 'vmlinuz-'), path.join(build, 'vmlinuz'));
    await copyFile(await newestBootFile(path.join(rootfs, 'boot'), 'initrd.img-'), path.join(build, 'initrd.img'));
    await chmod(path.join(build, 'vmlinuz'), 0o644);
    await chmod(path.join(build, 'initrd.img'), 0o644);

    log(`box: writing the ${DISK_GIB} GiB disk (mkfs.ext4 -d, then qcow2)`);
    const raw = path.join(build, 'disk.raw');
    await run('truncate', ['-s', `${DISK_GIB}G`, raw]);
    await run('mkfs.ext4', ['-q', '-F', '-L', 'root', '-d', rootfs, raw]);
    await run('qemu-img', ['convert', '-O', 'qcow2', raw, path.join(out, 'box.img')], { hint: 'install qemu-utils' });
    await rm(raw);
    await writeFile(path.join(out, 'metadata.json'), `${JSON.stringify({ provider: 'libvirt', format: 'qcow2', virtual_size: DISK_GIB })}\n`);
    await writeFile(path.join(out, 'Vagrantfile'), boxVagrantfile(box));
    await run('tar', ['-C', out, '-cf', path.join(build, 'foobar-bookworm.box'), 'metadata.json', 'Vagrantfile', 'box.img']);
    await rm(out, { recursive: true });
    await rm(rootfs, { recursive: true });
    await rm(debs, { recursive: true });
    await writeFile(path.join(build, 'ready'), `${new Date().toISOString()}\n`);
    await rename(build, box.dir);
    await chmod(box.dir, 0o755);
    return { box, built: true };
  } catch (e) {
    await unmountUnder(build).catch(() => undefined);
    await rm(build, { recursive: true, force: true });
    throw e;
  }
}

/** Adds the box to Vagrant under its hash's name (unless there) and records that name. */
export async function addBoxToVagrant(box: Box, log: (line: string) => void): Promise<void> {
  const listed = await run('vagrant', ['box', 'list', '--machine-readable'], { hint: 'install vagrant and vagrant-libvirt' });
  const names = new Set(listed.split('\n').filter((l) => l.split(',')[2] === 'box-name').map((l) => l.split(',')[3] ?? ''));
  if (!names.has(box.name)) {
    log(`box: adding ${box.name} to Vagrant`);
    await run('vagrant', ['box', 'add', '--force', '--name', box.name, box.boxFile]);
  }
  // Older builds: a gigabyte each in Vagrant and in our cache, never used again.
  for (const old of names) {
    if (old === box.name || !old.startsWith('foobar/bookworm-')) continue;
    log(`box: removing the older build ${old}`);
    await run('vagrant', ['box', 'remove', '--force', '--all', old]).catch(() => undefined);
    await rm(path.join(BOX_CACHE_DIR, old.slice('foobar/bookworm-'.length)), { recursive: true, force: true });
  }
  const current = await readFile(BOX_NAME_FILE, 'utf8').catch(() => '');
  if (current.trim() !== box.name) await writeFile(BOX_NAME_FILE, `${box.name}\n`, { mode: 0o644 });
}
