// Names and addresses of the scale harness's light hosts (issue 15). Everything the harness makes
// on the machine carries one of these prefixes, so that `--cleanup` finds a killed run's leftovers
// by name and touches nothing else (the lab's lab0 and vb-*, the bench's labb0).

export const SCALE = {
  bridge: 'fbscale0',
  /** Its own range: the lab is 10.213.0.0/24, the bench 10.214.0.0/24. */
  network: '10.215.0.0/16',
  gateway: '10.215.0.1',
  prefixLength: 16,
  netnsPrefix: 'fbscale-',
  vethPrefix: 'fbs-',
  /** Keys, sshd configs and overlay layers: on /run (a tmpfs), gone at reboot. */
  stateDir: '/run/fbscale',
  /** One cpuacct cgroup holding every host's processes (sshd, sudo, the shells). */
  cgroup: '/sys/fs/cgroup/cpuacct/fbscale-hosts',
  /** With --host-cpu-shares: a cpu cgroup (v1) holding the same processes at that weight. */
  cpuCgroup: '/sys/fs/cgroup/cpu/fbscale-hosts',
  maxHosts: 4000,
} as const;

export interface ScaleHost {
  index: number;
  /** Inventory name. */
  name: string;
  netns: string;
  /** The bridge side of the host's veth; the other end is eth0 in the namespace. */
  veth: string;
  address: string;
  dir: string;
}

const FIRST_HOST = 11;

function intToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');
}

export function scaleHosts(n: number): ScaleHost[] {
  const base = (10 << 24) + (215 << 16);
  return Array.from({ length: n }, (_, i) => {
    const id = String(i + 1).padStart(4, '0');
    const name = `s${id}`;
    return {
      index: i + 1,
      name,
      netns: `${SCALE.netnsPrefix}${id}`,
      veth: `${SCALE.vethPrefix}${id}`,
      address: intToIp(base + FIRST_HOST + i),
      dir: `${SCALE.stateDir}/hosts/${name}`,
    };
  });
}

/** A namespace, veth or bridge name the harness made (and only those). */
export function isScaleLeftover(name: string): boolean {
  return name === SCALE.bridge || new RegExp(`^(${SCALE.netnsPrefix}|${SCALE.vethPrefix})\\d{4}$`).test(name);
}

export function parseScaleCount(text: string): number {
  if (!/^[1-9]\d*$/.test(text) || Number(text) > SCALE.maxHosts) {
    throw new Error(`--scale: expected a whole number of hosts from 1 to ${SCALE.maxHosts}, got '${text}'`);
  }
  return Number(text);
}
