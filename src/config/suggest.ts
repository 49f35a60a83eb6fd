// "Did you mean" suggestions for misspelt keys, module names, hosts and groups.

/**
 * Edit distance between two strings: insertions, deletions, substitutions, and swaps of two
 * neighbouring letters (the commonest typo, "tempalte") each cost 1.
 */
export function editDistance(a: string, b: string): number {
  // Three rows are enough: we never need the alignment, only its cost.
  let beforePrevious: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      const deletion = (previous[j] ?? 0) + 1;
      const insertion = (current[j - 1] ?? 0) + 1;
      let best = Math.min(substitution, deletion, insertion);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, (beforePrevious[j - 2] ?? 0) + 1);
      }
      current.push(best);
    }
    beforePrevious = previous;
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/**
 * The closest candidate, if it is close enough to be a plausible typo: one edit for short
 * words, else about a third of the word's length (2 to 3 edits).
 */
export function closestMatch(word: string, candidates: Iterable<string>): string | undefined {
  const budget = word.length <= 3 ? 1 : Math.min(3, Math.max(2, Math.floor(word.length / 3)));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return bestDistance <= budget ? best : undefined;
}

/** `; did you mean "x"?` or an empty string, ready to append to a message. */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const match = closestMatch(word, candidates);
  return match === undefined ? '' : `; did you mean "${match}"?`;
}

/** A short, readable list of names: the first `max`, then "and N more". */
export function listNames(names: readonly string[], max = 12): string {
  if (names.length <= max) return names.join(', ');
  return `${names.slice(0, max).join(', ')} and ${names.length - max} more`;
}
