import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { buildProbe } from '../../src/facts/probe.js';

describe('output queries', () => {
  it('return exit status and output of each command, even output that looks like a marker', () => {
    const probe = buildProbe(
      [
        { kind: 'output', id: 'status', command: 'printf "line one\\nline two\\n"; exit 3' },
        { kind: 'output', id: 'tricky', command: 'echo "--foobar-probe-0000000000000000-- end"; echo err >&2' },
        { kind: 'output', id: 'empty', command: 'true' },
      ],
      { system: false, pendingHandlerFiles: [] },
    );
    const facts = probe.parse(execFileSync('/bin/sh', ['-c', probe.script]).toString());
    expect(facts.outputs.get('status')).toEqual({ code: 3, output: 'line one\nline two' });
    expect(facts.outputs.get('tricky')).toEqual({ code: 0, output: '--foobar-probe-0000000000000000-- end\nerr' });
    expect(facts.outputs.get('empty')).toEqual({ code: 0, output: '' });
  });
});
