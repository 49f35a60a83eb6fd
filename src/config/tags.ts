// `--tags` / `--skip-tags` selection with Ansible's semantics, including the special tags:
// `always` runs unless skipped by name, `never` runs only when asked for by name, and
// `all`, `tagged` and `untagged` select by whether a task has tags at all.

export interface TagSelection {
  /** `--tags`; empty or missing means `all`. */
  tags?: readonly string[];
  /** `--skip-tags`. */
  skipTags?: readonly string[];
}

/**
 * Should a task with these tags run? Pass the task's own tags together with those it
 * inherits from its role and play.
 */
export function selectByTags(taskTags: readonly string[], selection: TagSelection): boolean {
  const own = new Set(taskTags);
  const isTagged = own.size > 0;
  // An untagged task answers to the pseudo-tag `untagged`, so `--tags untagged` works.
  const effective = isTagged ? own : new Set(['untagged']);
  const wanted = selection.tags?.length ? new Set(selection.tags) : new Set(['all']);
  const skipped = new Set(selection.skipTags ?? []);
  const meets = (list: ReadonlySet<string>) => [...effective].some((tag) => list.has(tag));

  const included =
    own.has('always') ||
    (wanted.has('all') && !own.has('never')) ||
    meets(wanted) ||
    (wanted.has('tagged') && isTagged && !own.has('never'));
  if (!included) return false;

  if (skipped.has('all')) return own.has('always') && !skipped.has('always');
  if (meets(skipped)) return false;
  if (skipped.has('tagged') && isTagged) return false;
  return true;
}
