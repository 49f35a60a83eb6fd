// The spinner line on stderr. It is a nicety: it never starts without a terminal of known
// width (ora divides by the width: 0 columns made it loop forever), and any failure of it
// (ora throws, the terminal goes away, it shrinks to 0 columns) drops it, never the run.
import ora from 'ora';

/** The part of ora the console uses. */
export interface SpinnerLike {
  text: string;
  isEnabled: boolean;
  start(text?: string): unknown;
  stop(): unknown;
  clear(): unknown;
  render(): unknown;
}

/** A terminal stream: stderr in real runs, a fake in tests. */
export interface ProgressStream extends NodeJS.WritableStream {
  isTTY?: boolean;
  columns?: number;
}

export type SpinnerFactory = (stream: ProgressStream) => SpinnerLike;

const oraSpinner: SpinnerFactory = (stream) => ora({ stream: stream as NodeJS.WriteStream, isEnabled: true, discardStdin: false });

/** A terminal with a known, positive width: the only place a spinner can draw. */
export function hasUsableWidth(stream: { isTTY?: boolean; columns?: number }): boolean {
  return stream.isTTY === true && typeof stream.columns === 'number' && Number.isInteger(stream.columns) && stream.columns > 0;
}

export class ProgressLine {
  private spinner: SpinnerLike | undefined;
  private readonly onResize = () => {
    if (!hasUsableWidth(this.stream)) this.drop();
  };
  private readonly onError = () => this.drop();

  private constructor(private readonly stream: ProgressStream) {}

  /** A started progress line, or undefined where none can be shown. */
  static start(stream: ProgressStream, text: string, factory: SpinnerFactory = oraSpinner): ProgressLine | undefined {
    if (!hasUsableWidth(stream)) return undefined;
    const line = new ProgressLine(stream);
    try {
      line.spinner = factory(stream);
      line.containFailures(line.spinner);
      stream.on('resize', line.onResize);
      stream.on('error', line.onError);
      line.spinner.start(line.fit(text));
    } catch {
      line.drop();
      return undefined;
    }
    return line;
  }

  set text(text: string) {
    this.guard((s) => (s.text = this.fit(text)));
  }

  clear(): void {
    this.guard((s) => s.clear());
  }

  render(): void {
    this.guard((s) => s.render());
  }

  /** Stop and erase the line. */
  stop(): void {
    this.guard((s) => s.stop());
    this.detach();
  }

  /** One line that fits: a wrapped spinner line is what ora miscounts. */
  private fit(text: string): string {
    const room = Math.max(1, (this.stream.columns ?? 1) - 3);
    const chars = [...text];
    return chars.length <= room ? text : `${chars.slice(0, Math.max(0, room - 1)).join('')}…`;
  }

  private guard(action: (spinner: SpinnerLike) => void): void {
    if (!this.spinner) return;
    if (!hasUsableWidth(this.stream)) return this.drop();
    try {
      action(this.spinner);
    } catch {
      this.drop();
    }
  }

  /**
   * ora draws from its own timer and from its hook on stdout/stderr writes, outside our calls:
   * a throw there would be an uncaught exception. Its render and clear, wrapped on the
   * instance (which its timer and hook call through), drop the spinner instead.
   */
  private containFailures(spinner: SpinnerLike): void {
    for (const method of ['render', 'clear'] as const) {
      const original = spinner[method].bind(spinner);
      spinner[method] = () => {
        try {
          return original();
        } catch {
          this.drop();
          return undefined;
        }
      };
    }
  }

  /** Stops the spinner without drawing or erasing anything: the terminal may be what failed. */
  drop(): void {
    const spinner = this.spinner;
    this.spinner = undefined;
    this.detach();
    if (!spinner) return;
    try {
      spinner.isEnabled = false;
      spinner.stop();
    } catch {
      // Already broken: nothing more to undo.
    }
  }

  private detach(): void {
    this.stream.removeListener('resize', this.onResize);
    this.stream.removeListener('error', this.onError);
  }
}
