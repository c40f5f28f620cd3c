/** Ids the next symbol may not be, given every id read and written so far. */
export type Constraint = (history: readonly number[]) => ReadonlySet<number>;

const NONE: ReadonlySet<number> = new Set();

export const unconstrained: Constraint = () => NONE;

/**
 * Hugging Face's `no_repeat_ngram_size`: the ids that would complete an n-gram
 * of ids already present in `history`. For n = 1 that is every id seen.
 */
export function bannedNext(history: readonly number[], n: number): Set<number> {
  const banned = new Set<number>();
  const context = history.length - (n - 1);
  if (context < 0) return banned;
  for (let i = 0; i + n <= history.length; i++) {
    let same = true;
    for (let j = 0; j < n - 1 && same; j++) same = history[i + j] === history[context + j];
    if (same) banned.add(history[i + n - 1]);
  }
  return banned;
}

/**
 * The repetition guard: no n-gram twice. `boundary` (the end-of-document id)
 * is never banned, since it is where a text ends rather than text; banning it
 * would keep a document from ever ending once its first END had been read.
 */
export function noRepeatNgram(n: number, boundary: number | null): Constraint {
  return (history) => {
    const banned = bannedNext(history, n);
    if (boundary !== null) banned.delete(boundary);
    return banned;
  };
}
