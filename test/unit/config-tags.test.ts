import { describe, expect, it } from 'vitest';
import { selectByTags } from '../../src/config/tags.js';

describe('selectByTags', () => {
  const run = (taskTags: string[], tags?: string[], skipTags?: string[]) =>
    selectByTags(taskTags, { ...(tags ? { tags } : {}), ...(skipTags ? { skipTags } : {}) });

  it('runs everything but `never` when no tags are asked for', () => {
    expect(run([])).toBe(true);
    expect(run(['web'])).toBe(true);
    expect(run(['never'])).toBe(false);
    expect(run(['never', 'debug'])).toBe(false);
  });

  it('runs tasks sharing a requested tag, plus `always`', () => {
    expect(run(['web'], ['web'])).toBe(true);
    expect(run(['db'], ['web'])).toBe(false);
    expect(run([], ['web'])).toBe(false);
    expect(run(['always'], ['web'])).toBe(true);
  });

  it('runs a `never` task only when one of its tags is asked for by name', () => {
    expect(run(['never', 'debug'], ['debug'])).toBe(true);
    expect(run(['never', 'debug'], ['all'])).toBe(false);
    expect(run(['never'], ['never'])).toBe(true);
  });

  it('understands tagged and untagged', () => {
    expect(run(['web'], ['tagged'])).toBe(true);
    expect(run([], ['tagged'])).toBe(false);
    expect(run([], ['untagged'])).toBe(true);
    expect(run(['web'], ['untagged'])).toBe(false);
    expect(run([], undefined, ['untagged'])).toBe(false);
    expect(run(['web'], undefined, ['tagged'])).toBe(false);
  });

  it('skips by tag, and skips `always` only when it is named', () => {
    expect(run(['web'], undefined, ['web'])).toBe(false);
    expect(run(['web', 'nginx'], ['web'], ['nginx'])).toBe(false);
    expect(run(['always'], undefined, ['web'])).toBe(true);
    expect(run(['always'], undefined, ['all'])).toBe(true);
    expect(run(['always'], undefined, ['always'])).toBe(false);
    expect(run(['web'], undefined, ['all'])).toBe(false);
  });
});
