import { describe, expect, it } from 'vitest';
import { tailLines } from '../../src/ui/text.js';

const plain = (lines: { text: string }[][]): string[] => lines.map((l) => l.map((r) => r.text).join(''));

describe('tailLines', () => {
  it('wraps at the width, after the last space when there is one in the right half', () => {
    expect(plain(tailLines([{ text: 'the whale and the sea', kind: 'g' }], 10, 10))).toEqual(['the whale ', 'and the ', 'sea']);
    expect(plain(tailLines([{ text: 'abcdefghijklmnop', kind: 'g' }], 5, 10))).toEqual(['abcde', 'fghij', 'klmno', 'p']);
  });

  it('keeps only the last rows, and starts new lines at newlines', () => {
    expect(plain(tailLines([{ text: 'a\nb\nc\nd', kind: 'g' }], 10, 2))).toEqual(['c', 'd']);
    expect(tailLines([{ text: 'a', kind: 'g' }], 10, 0)).toEqual([]);
  });

  it('keeps runs apart by kind across a wrap (the prime stays distinct)', () => {
    const lines = tailLines(
      [
        { text: 'Call me', kind: 'prime' },
        { text: ' Ishmael', kind: 'gen' },
      ],
      9,
      5,
    );
    expect(lines).toEqual([
      [
        { text: 'Call me', kind: 'prime' },
        { text: ' ', kind: 'gen' },
      ],
      [{ text: 'Ishmael', kind: 'gen' }],
    ]);
  });

  it('shows control characters instead of obeying them', () => {
    expect(plain(tailLines([{ text: 'a\tb\u0007c\rd\u001b[2J', kind: 'g' }], 40, 3))).toEqual(['a  b·c·d·[2J']);
  });
});
