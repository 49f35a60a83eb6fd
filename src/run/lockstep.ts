// `strategy: linear`: every host of a batch finishes task N before any host starts task N+1
// (Ansible's default). Hosts that fail or finish leave the barrier so the others never wait
// on them. The default, `free`, lets each host run ahead: a slow host never holds the others.

export class Lockstep {
  private readonly position = new Map<string, number>();
  private waiters: Array<{ index: number; resolve: () => void }> = [];

  constructor(hosts: string[]) {
    for (const host of hosts) this.position.set(host, -1);
  }

  /** Resolves once every host still running has reached task `index` (or left). */
  arrive(host: string, index: number): Promise<void> {
    this.position.set(host, index);
    return new Promise((resolve) => {
      this.waiters.push({ index, resolve });
      this.release();
    });
  }

  /** The host is done with the play (finished, failed or unreachable). */
  leave(host: string): void {
    this.position.delete(host);
    this.release();
  }

  private release(): void {
    const slowest = Math.min(...this.position.values());
    const ready = this.waiters.filter((w) => w.index <= slowest || this.position.size === 0);
    this.waiters = this.waiters.filter((w) => !ready.includes(w));
    for (const w of ready) w.resolve();
  }
}
