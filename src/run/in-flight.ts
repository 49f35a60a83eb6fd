// Tasks whose steps are on their way to the host: if the connection is lost then, what they did
// on the host is unknown, and each gets an `unreachable` result that says so.
import { ConnectionError } from '../errors.js';
import type { TaskInstance } from './prepare.js';
import type { TaskRecorder } from './task-record.js';

export class InFlight {
  private onWire: TaskInstance[] = [];

  /** Runs `send` with `instances` marked as on their way to the host (see lostDuring). */
  async sending<T>(instances: TaskInstance[], send: () => Promise<T>): Promise<T> {
    this.onWire = instances;
    try {
      const result = await send();
      this.onWire = [];
      return result;
    } catch (error) {
      // Only a lost connection leaves their result unknown: lostDuring names them then.
      if (!(error instanceof ConnectionError)) this.onWire = [];
      throw error;
    }
  }

  /**
   * The connection was lost: the message names the tasks whose steps were on their way (what they
   * did on the host is unknown), and each gets an `unreachable` result.
   */
  lostDuring(message: string, recorder: TaskRecorder): string {
    const lost = this.onWire;
    this.onWire = [];
    if (lost.length === 0) return message;
    for (const instance of lost) {
      recorder.done.add(instance);
      recorder.report({ ...recorder.synthetic(instance.label, 'unreachable', 'the connection was lost while this task ran: its result on the host is unknown'), module: instance.module.name });
    }
    return `${message}; lost during ${lost.map((i) => `"${i.label}"`).join(', ')} (its result on the host is unknown)`;
  }
}
