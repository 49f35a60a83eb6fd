// What a hostile host or an odd terminal can do to the console: control sequences, huge
// output, secrets in the progress line, a terminal of 0 columns, a spinner that throws.
import { describe, expect, it } from 'vitest';
import type { RunSummary } from '../../src/plan/types.js';
import { ConsoleReporter, type ConsoleOptions } from '../../src/report/console.js';
import { ProgressLine, type SpinnerLike } from '../../src/report/progress.js';
import { Redactor } from '../../src/report/redact.js';
import { CollectingStream, recap, result, summary } from '../fixtures/run/helpers.js';

const ESC = '\u001b';
const BEL = '\u0007';
const HOSTILE = `${ESC}]0;pwned${BEL}${ESC}[2J`;
const SHOWN = '\\x1b]0;pwned\\x07\\x1b[2J';
/** Any raw control character except newline, and any bidi override. */
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

/** A terminal-like stream: TTY, a width, resize events. */
class FakeTerminal extends CollectingStream {
  isTTY = true;
  constructor(public columns: number | undefined) {
    super();
  }
}

class RecordingSpinner implements SpinnerLike {
  private current = '';
  isEnabled = true;
  readonly texts: string[] = [];
  started = false;
  stopped = false;
  constructor(private readonly failOn?: 'start' | 'render' | 'text') {}
  start(text?: string): void {
    if (this.failOn === 'start') throw new Error('spinner start failed');
    this.started = true;
    if (text !== undefined) this.text = text;
  }
  get text(): string {
    return this.current;
  }
  set text(text: string) {
    if (this.failOn === 'text') throw new Error('spinner text failed');
    this.current = text;
    this.texts.push(text);
  }
  stop(): void {
    this.stopped = true;
  }
  clear(): void {}
  render(): void {
    if (this.failOn === 'render') throw new Error('EPIPE: write after end');
  }
  /** What ora's own timer does: calls render through the instance. */
  tick(): void {
    this.render();
  }
}

function reporter(over: Partial<ConsoleOptions> & { secrets?: string[] } = {}): { console: ConsoleReporter; out: CollectingStream } {
  const out = new CollectingStream();
  const redactor = new Redactor();
  redactor.add(over.secrets ?? []);
  const { secrets: _secrets, ...rest } = over;
  return { console: new ConsoleReporter({ color: false, progress: false, verbosity: 0, redactor, out, ...rest }), out };
}

function print(s: RunSummary, over: Partial<ConsoleOptions> & { secrets?: string[] } = {}): string {
  const { console, out } = reporter(over);
  console.runStart({ mode: s.mode, playbook: s.playbook, inventory: s.inventory, hosts: s.hosts.map((h) => h.host) });
  for (const play of s.plays) console.playStart(play);
  console.runEnd(s);
  return out.text;
}

const hostileSummary = (mode: 'plan' | 'apply'): RunSummary => summary({
  mode,
  hosts: [
    recap('web1', { changed: 1, failed: 1, status: 'failed', message: `start ${HOSTILE}: exit 1: ${HOSTILE}` }),
    recap('db1', { status: 'unreachable', unreachable: true, message: `banner ${HOSTILE}` }),
  ],
  results: [
    result('web1', 'motd', {
      module: 'copy',
      outcome: 'changed',
      reason: 'update /etc/motd',
      diff: { path: '/etc/motd', before: `welcome\n${HOSTILE}fake prompt$ \n`, after: 'welcome\n', metaChanges: [], sensitive: false },
    }),
    result('web1', `start ${HOSTILE}`, { outcome: 'failed', reason: `exit 1: ${HOSTILE}`, output: `line 1\n${HOSTILE}\u009b31m\u202eevil\n` }),
  ],
});

describe('ConsoleReporter: control characters from hosts are shown escaped', () => {
  it('a plan --no-color diff of a host file shows \\x1b]0;title\\x07\\x1b[2J, never the raw bytes', () => {
    const text = print(hostileSummary('plan'));
    expect(text).toContain(`-${SHOWN}fake prompt$ `);
    expect(text).not.toMatch(RAW_CONTROL);
  });

  it('task names, reasons, output, recap and unreachable messages, log lines: all escaped', () => {
    const { console, out } = reporter({ verbosity: 2 });
    const s = hostileSummary('apply');
    console.runStart({ mode: 'apply', playbook: 'p', inventory: 'i', hosts: ['web1', 'db1'] });
    console.playStart(s.plays[0]!);
    console.hostUnreachable('db1', `banner ${HOSTILE}`);
    console.log(`web1: could not record pending handlers: ${HOSTILE}\nweb2 ok`);
    for (const r of s.results) console.taskResult(r);
    console.runEnd(s);
    const text = out.text;
    expect(text).not.toMatch(RAW_CONTROL);
    expect(text).toContain(`failed   start ${SHOWN} — exit 1: ${SHOWN}`);
    expect(text).toContain(`| ${SHOWN}\\x9b31m\\u202eevil`);
    expect(text).toContain(`db1: UNREACHABLE: banner ${SHOWN}`);
    // A log line stays one line: the host's newline cannot fake a line of ours.
    expect(text).toContain(`pending handlers: ${SHOWN}\\nweb2 ok`);
    expect(text.split('\n').filter((l) => l.startsWith('web2 ok'))).toEqual([]);
  });

  it('with colour on, our own colour codes survive and the host\'s do not', () => {
    const text = print(hostileSummary('plan'), { color: true });
    expect(text).toContain(`${ESC}[31m-${SHOWN}fake prompt$ ${ESC}[39m`);
    expect(text).not.toContain(HOSTILE);
    expect(text).not.toContain(`${ESC}]`);
  });
});

describe('ConsoleReporter: long output is shown once per host, capped', () => {
  const line = `E${'x'.repeat(2 * 1024 * 1024)}Z`;
  const s = summary({
    mode: 'apply',
    hosts: [recap('web1', { failed: 1, status: 'failed', message: `build: exit status 1: ${line}` })],
    results: [result('web1', 'build', { outcome: 'failed', reason: `exit status 1: ${line}`, output: `${line}\n` })],
  });

  it('a 2 MB stderr line costs a few kB on the console, with head, tail and a count of what was cut', () => {
    const text = print(s, { verbosity: 2 });
    expect(text.length).toBeLessThan(16 * 1024);
    expect(text).toMatch(/\.\.\. \d+ bytes cut \.\.\./);
    expect(text).toContain('Exxx');
    expect(text).toContain('xxxZ');
  });

  it('many lines of output keep their head and tail', () => {
    const output = Array.from({ length: 5000 }, (_, i) => `out ${i + 1}`).join('\n');
    const many = summary({
      mode: 'apply',
      hosts: [recap('web1', { failed: 1, status: 'failed', message: 'build: exit 2' })],
      results: [result('web1', 'build', { outcome: 'failed', reason: 'exit 2', output })],
    });
    const text = print(many);
    expect(text).toContain('| out 1\n');
    expect(text).toContain('| out 5000\n');
    expect(text).toMatch(/\| \.\.\. \d+ lines cut \.\.\./);
    expect(text.split('\n').length).toBeLessThan(60);
  });
});

describe('ConsoleReporter: an incomplete plan says so', () => {
  it('counts the hosts that could not be checked next to the changes pending', () => {
    const s = summary({
      mode: 'plan',
      hosts: [
        recap('web1', { changed: 1, status: 'changed' }),
        recap('web2', { status: 'unreachable', unreachable: true, message: 'connect ECONNREFUSED' }),
        recap('db1', { status: 'failed', failed: 1, message: 'gather facts: fact gathering failed (exit 1)' }),
      ],
      results: [result('web1', 't', { outcome: 'changed' })],
    });
    const text = print(s);
    expect(text).toContain('2 of 3 hosts could not be checked — plan incomplete');
    expect(text).toContain('1 change(s) pending');
  });

  it('a complete plan does not mention it', () => {
    const text = print(summary({ mode: 'plan', hosts: [recap('web1')] }));
    expect(text).not.toContain('plan incomplete');
  });
});

describe('ConsoleReporter: the progress line', () => {
  const progressRun = (stream: FakeTerminal, spinner: RecordingSpinner, secrets: string[] = []) => {
    let made = 0;
    const { console, out } = reporter({ progress: true, progressStream: stream, spinner: () => (made++, spinner), secrets });
    console.runStart({ mode: 'apply', playbook: 'p', inventory: 'i', hosts: ['web1'] });
    console.playStart({ name: 'site', hosts: ['web1'], batches: [['web1']] });
    console.taskStart('web1', `login with Sup3r-S3cret-pw ${HOSTILE}`);
    console.log('a line while spinning');
    console.hostDone('web1');
    console.runEnd(summary({ mode: 'apply', hosts: [recap('web1')] }));
    return { made: () => made, out };
  };

  it('never starts on a terminal of 0 columns, or of unknown width', () => {
    for (const columns of [0, undefined]) {
      const spinner = new RecordingSpinner();
      const { made, out } = progressRun(new FakeTerminal(columns), spinner);
      expect(made()).toBe(0);
      expect(out.text).toContain('a line while spinning');
    }
  });

  it('never starts when the stream is not a terminal', () => {
    const stream = new FakeTerminal(80);
    stream.isTTY = false;
    const { made } = progressRun(stream, new RecordingSpinner());
    expect(made()).toBe(0);
  });

  it('shows task names redacted and escaped, on one line that fits the terminal', () => {
    const spinner = new RecordingSpinner();
    progressRun(new FakeTerminal(40), spinner, ['Sup3r-S3cret-pw']);
    expect(spinner.started).toBe(true);
    expect(spinner.stopped).toBe(true);
    expect(spinner.texts.length).toBeGreaterThan(0);
    for (const text of spinner.texts) {
      expect(text).not.toContain('Sup3r-S3cret-pw');
      expect(text).not.toMatch(RAW_CONTROL);
      expect(text).not.toContain('\n');
      expect([...text].length).toBeLessThan(40);
    }
    const wide = new RecordingSpinner();
    progressRun(new FakeTerminal(500), wide, ['Sup3r-S3cret-pw']);
    expect(wide.texts.some((t) => t.includes('login with ******** \\x1b]0;'))).toBe(true);
  });

  it('a spinner that throws is dropped, and the run is reported in full', () => {
    for (const failOn of ['start', 'render', 'text'] as const) {
      const spinner = new RecordingSpinner(failOn);
      const { out } = progressRun(new FakeTerminal(80), spinner);
      expect(out.text).toContain('a line while spinning');
      expect(out.text).toContain('RECAP (1 hosts');
    }
  });

  it('is dropped without clearing when the terminal shrinks to 0 columns', () => {
    const stream = new FakeTerminal(80);
    const spinner = new RecordingSpinner();
    let cleared = 0;
    spinner.clear = () => void cleared++;
    const { console, out } = reporter({ progress: true, progressStream: stream, spinner: () => spinner });
    console.runStart({ mode: 'apply', playbook: 'p', inventory: 'i', hosts: ['web1'] });
    stream.columns = 0;
    stream.emit('resize');
    expect(spinner.isEnabled).toBe(false);
    expect(spinner.stopped).toBe(true);
    const before = cleared;
    console.log('after the resize');
    console.runEnd(summary({ mode: 'apply', hosts: [recap('web1')] }));
    expect(cleared).toBe(before);
    expect(out.text).toContain('after the resize');
  });

  it('a throw from the spinner\'s own timer drops it instead of escaping as an uncaught exception', () => {
    // ora's timer calls the instance's render, outside any call of ours.
    const spinner = new RecordingSpinner('render');
    expect(ProgressLine.start(new FakeTerminal(80), 'connecting', () => spinner)).toBeDefined();
    expect(() => spinner.tick()).not.toThrow();
    expect(spinner.isEnabled).toBe(false);
    expect(spinner.stopped).toBe(true);
  });

  it('when the spinner\'s hook breaks a write, the spinner goes and the line is written', () => {
    const stream = new FakeTerminal(80);
    const out = new CollectingStream();
    const realWrite = out.write.bind(out);
    let broken = true;
    out.write = ((chunk: string) => {
      if (broken) {
        broken = false;
        throw new Error('spinner hook failed');
      }
      return realWrite(chunk);
    }) as typeof out.write;
    const spinner = new RecordingSpinner();
    const redactor = new Redactor();
    const console = new ConsoleReporter({ color: false, progress: true, verbosity: 0, redactor, out, progressStream: stream, spinner: () => spinner });
    console.runStart({ mode: 'apply', playbook: 'p', inventory: 'i', hosts: ['web1'] });
    expect(() => console.log('still printed')).not.toThrow();
    expect(out.text).toContain('still printed');
    expect(spinner.isEnabled).toBe(false);
  });
});

