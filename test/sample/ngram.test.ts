import { describe, expect, it } from 'vitest';
import { bannedNext, noRepeatNgram } from '../../src/sample/ngram.js';

const sorted = (s: ReadonlySet<number>): number[] => [...s].sort((a, b) => a - b);

describe('no-repeat n-gram guard', () => {
  it('bans the ids that would complete an n-gram already present', () => {
    // history 1 2 3 1 2: the context "1 2" was followed by 3 before.
    expect(sorted(bannedNext([1, 2, 3, 1, 2], 3))).toEqual([3]);
    // Bigrams: after 2 came 3 (and 2 ends the history, so nothing else follows a 2).
    expect(sorted(bannedNext([1, 2, 3, 1, 2], 2))).toEqual([3]);
    // Every continuation of "1" seen: 2 and 5.
    expect(sorted(bannedNext([1, 2, 1, 5, 1], 2))).toEqual([2, 5]);
  });

  it('bans every id seen for n = 1, and nothing while the history is shorter than n − 1', () => {
    expect(sorted(bannedNext([4, 2, 4], 1))).toEqual([2, 4]);
    expect(sorted(bannedNext([7], 3))).toEqual([]);
    expect(sorted(bannedNext([], 1))).toEqual([]);
  });

  it('does not match the context against itself', () => {
    // "2 2" occurs only as the context at the end.
    expect(sorted(bannedNext([1, 2, 2], 3))).toEqual([]);
    // Overlapping: 2 2 2 — the context "2 2" at 0 was followed by 2.
    expect(sorted(bannedNext([2, 2, 2], 3))).toEqual([2]);
  });

  it('never bans the end-of-document symbol', () => {
    const guard = noRepeatNgram(1, 9);
    expect(sorted(guard([9, 1, 2, 9, 3]))).toEqual([1, 2, 3]);
    expect(sorted(noRepeatNgram(1, null)([9, 1]))).toEqual([1, 9]);
  });
});
