// validate's problem list: one mistake seen on many hosts is one entry naming them all, even
// when each host's hint differs (it lists that host's own variable names).
import { describe, expect, it } from 'vitest';
import { ProblemReport } from '../../src/cli/problem-report.js';
import { TemplateError } from '../../src/errors.js';
import { Redactor } from '../../src/report/redact.js';

describe('ProblemReport', () => {
  it('groups the same message at the same place across hosts whose hints differ', () => {
    const report = new ProblemReport(new Redactor());
    const where = { file: '/nowhere/playbooks/site.yml', line: 3, column: 16 };
    for (const host of ['h1', 'h2', 'h3']) {
      report.add(new TemplateError(`undefined variable "thing" (host ${host})`, where, `defined names include: a_${host}, groups`), host);
    }
    expect(report.problems).toHaveLength(1);
    expect(report.problems[0]).toMatchObject({ message: 'undefined variable "thing"', hosts: ['h1', 'h2', 'h3'], hint: 'defined names include: a_h1, groups' });
  });

  it('keeps different messages, or one message at different places, apart', () => {
    const report = new ProblemReport(new Redactor());
    report.add(new TemplateError('undefined variable "a"', { file: '/x/a.yml', line: 1 }), 'h1');
    report.add(new TemplateError('undefined variable "b"', { file: '/x/a.yml', line: 1 }), 'h1');
    report.add(new TemplateError('undefined variable "a"', { file: '/x/a.yml', line: 2 }), 'h1');
    expect(report.problems).toHaveLength(3);
  });
});
