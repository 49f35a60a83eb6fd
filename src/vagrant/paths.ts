// Where the Vagrant path keeps its state on the machine. Everything lives outside the repository.

import path from 'node:path';

/** Keys, the KVM probe's answer, the name of the current box and the VMs' console logs. */
export const VAGRANT_STATE_DIR = '/var/lib/foobar-provision/vagrant';
/** Built boxes with their kernel and initrd, keyed by a hash of what goes into them. */
export const BOX_CACHE_DIR = '/var/cache/foobar-provision/boxes';

/** The key `vagrant` itself logs in with (the box's `vagrant` user); made when the box is built. */
export const BOX_KEY = path.join(VAGRANT_STATE_DIR, 'box_ed25519');
/** The key playbooks log in with (the `deploy` user the Vagrantfile's provisioner makes). */
export const DEPLOY_KEY = path.join(VAGRANT_STATE_DIR, 'id_ed25519');
/** One line: the name the current box was added to Vagrant under. The Vagrantfile reads it. */
export const BOX_NAME_FILE = path.join(VAGRANT_STATE_DIR, 'box-name');
/** One word, `kvm` or `qemu`: the domain type a probe found to boot. The Vagrantfile reads it. */
export const DRIVER_FILE = path.join(VAGRANT_STATE_DIR, 'driver');
/** Each VM's serial console, written by libvirt: where its host keys are read from. */
export const CONSOLE_DIR = path.join(VAGRANT_STATE_DIR, 'console');

/** Every libvirt domain, volume and network that Vagrant makes for us starts with this (and a
 *  machine's own `foobar2` domain does not). */
export const LIBVIRT_PREFIX = 'foobar-';

export const consoleLog = (host: string): string => path.join(CONSOLE_DIR, `${host}.log`);
