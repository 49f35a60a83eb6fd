// `lab status` prints what each host's systemd answered: a hostile host's control characters are
// shown escaped, never obeyed by the operator's terminal.
import { describe, expect, it } from 'vitest';
import { statusTable } from '../../src/cli/lab-command.js';

describe('lab status table', () => {
  it('shows a host-supplied system state escaped', () => {
    const table = statusTable([{ name: 'web1', address: '10.0.0.21', up: true, sshOk: true, systemState: 'running\u001b]0;pwned\u0007\u001b[2J', memoryMiB: 64 }]);
    expect(table).toContain('running\\x1b]0;pwned\\x07\\x1b[2J');
    expect(table).not.toMatch(/[\u001b\u0007]/);
  });
});
