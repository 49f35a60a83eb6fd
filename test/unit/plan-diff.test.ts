// The lines printed under a file change: unified diffs, or placeholders that never show content.
import { describe, expect, it } from 'vitest';
import type { FileDiff } from '../../src/modules/types.js';
import { renderFileDiff, SENSITIVE_PLACEHOLDER } from '../../src/plan/diff.js';

const diff = (d: Partial<FileDiff>): FileDiff => ({ path: '/etc/app.conf', before: null, after: null, metaChanges: [], sensitive: false, ...d });

describe('renderFileDiff', () => {
  it('a changed file is a unified diff from the host to the wanted content', () => {
    const lines = renderFileDiff(diff({ before: 'a\nb\nc\n', after: 'a\nB\nc\n' }));
    expect(lines[0]).toMatch(/^--- \/etc\/app.conf \(host\)/);
    expect(lines[1]).toMatch(/^\+\+\+ \/etc\/app.conf \(wanted\)/);
    expect(lines).toContain('@@ -1,3 +1,3 @@');
    expect(lines).toContain('-b');
    expect(lines).toContain('+B');
    expect(lines).toContain(' a');
    expect(lines.some((l) => l.startsWith('Index') || l.startsWith('===='))).toBe(false);
    expect(lines[lines.length - 1]).not.toBe('');
  });

  it('a new file is a diff from /dev/null with every line added', () => {
    const lines = renderFileDiff(diff({ before: null, after: 'one\ntwo\n' }));
    expect(lines[0]).toMatch(/^--- \/dev\/null/);
    expect(lines[1]).toMatch(/^\+\+\+ \/etc\/app.conf \(wanted\)/);
    expect(lines.filter((l) => l.startsWith('+') && !l.startsWith('+++'))).toEqual(['+one', '+two']);
    expect(lines.some((l) => l.startsWith('-') && !l.startsWith('---'))).toBe(false);
  });

  it('a deleted file is a diff to /dev/null with every line removed', () => {
    const lines = renderFileDiff(diff({ before: 'old\n', after: null }));
    expect(lines[0]).toMatch(/^--- \/etc\/app.conf \(host\)/);
    expect(lines[1]).toMatch(/^\+\+\+ \/dev\/null/);
    expect(lines.filter((l) => l.startsWith('-') && !l.startsWith('---'))).toEqual(['-old']);
    expect(lines.some((l) => l.startsWith('+') && !l.startsWith('+++'))).toBe(false);
  });

  it('meta-only changes are one "~" line each and no diff', () => {
    const lines = renderFileDiff(diff({ before: 'same\n', after: 'same\n', metaChanges: ['mode 0644 -> 0600', 'owner root -> app'] }));
    expect(lines).toEqual(['~ /etc/app.conf: mode 0644 -> 0600', '~ /etc/app.conf: owner root -> app']);
  });

  it('nothing changed gives no lines', () => {
    expect(renderFileDiff(diff({ before: 'x', after: 'x' }))).toEqual([]);
  });

  it('sensitive content is never shown, only a placeholder after the meta changes', () => {
    const lines = renderFileDiff(diff({ before: 'password=old-secret\n', after: 'password=new-secret\n', sensitive: true, metaChanges: ['mode 0644 -> 0600'] }));
    expect(lines).toEqual(['~ /etc/app.conf: mode 0644 -> 0600', `~ /etc/app.conf: ${SENSITIVE_PLACEHOLDER}`]);
    expect(lines.join('\n')).not.toContain('secret');
    expect(SENSITIVE_PLACEHOLDER).toBe('(sensitive content changed)');
  });

  it('a sensitive new file shows only the placeholder', () => {
    const lines = renderFileDiff(diff({ before: null, after: 'token=abc123\n', sensitive: true }));
    expect(lines).toEqual([`~ /etc/app.conf: ${SENSITIVE_PLACEHOLDER}`]);
  });

  it('a sensitive file whose content is unchanged shows no placeholder', () => {
    expect(renderFileDiff(diff({ before: 's3cret', after: 's3cret', sensitive: true, metaChanges: ['mode 0600 -> 0640'] }))).toEqual(['~ /etc/app.conf: mode 0600 -> 0640']);
  });

  it('binary content says so instead of printing bytes', () => {
    const lines = renderFileDiff(diff({ before: '\u0000\u0001', after: '\u0000\u0002', binary: true }));
    expect(lines).toEqual(['~ /etc/app.conf: (binary content changed)']);
  });
});
