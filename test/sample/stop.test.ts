import { describe, expect, it } from 'vitest';
import { firstMatch, parseStop, StopFilter } from '../../src/sample/stop.js';
import type { Drawn } from '../../src/sample/sampler.js';
import { hasEnded, printable, type TextRules } from '../../src/sample/text.js';

/** Pushes the pieces one by one, recording what is written after each push. */
function stream(stops: string[], pieces: string[]): { written: string[][]; all: string; stoppedAt: number } {
  const f = new StopFilter(stops);
  const written: string[][] = [];
  let stoppedAt = -1;
  for (const [i, p] of pieces.entries()) {
    written.push(f.push(p));
    if (f.stopped && stoppedAt < 0) stoppedAt = i;
  }
  written.push(f.flush());
  return { written, all: written.flat().join(''), stoppedAt };
}

describe('stop sequences', () => {
  it('read \\n, \\t, \\r and \\\\ as escapes and refuse others and an empty one', () => {
    expect(parseStop('\\n\\n')).toEqual({ stop: '\n\n' });
    expect(parseStop('a\\tb\\\\n\\r')).toEqual({ stop: 'a\tb\\n\r' });
    expect(parseStop('THE END')).toEqual({ stop: 'THE END' });
    expect(parseStop('\\x')).toEqual({ error: 'has the unknown escape \\x; write \\n, \\t, \\r or \\\\' });
    expect(parseStop('ab\\')).toHaveProperty('error');
    expect(parseStop('')).toEqual({ error: 'is empty' });
  });

  it('end the text at a match split across chunks, writing none of the match', () => {
    // "\n\n" arrives as two chunks, and "END" as "E", "N", "D".
    expect(stream(['\n\n'], ['Hello', ' world', '\n', '\n', 'never'])).toMatchObject({ all: 'Hello world', stoppedAt: 3 });
    const r = stream(['END'], ['a', 'b', 'E', 'N', 'D', 'c']);
    expect(r.all).toBe('ab');
    expect(r.stoppedAt).toBe(4);
    // While "E" and "EN" could still begin the stop sequence they are held back: nothing of it is ever written.
    expect(r.written.slice(0, 5)).toEqual([['a'], ['b'], [], [], []]);
  });

  it('hold back only what could still begin a stop sequence, and release it when it turns out not to', () => {
    const r = stream(['\n\n'], ['a', '\n', 'b', '\n']);
    expect(r.written).toEqual([['a'], [], ['\n', 'b'], [], ['\n']]);
    expect(r.all).toBe('a\nb\n');
    expect(r.stoppedAt).toBe(-1);
  });

  it('cut a many-character piece where the match begins, even when the match is inside one piece', () => {
    expect(stream(['\n\n'], ['one\n', '\ntwo']).all).toBe('one');
    expect(stream(['stop'], ['a stop b']).all).toBe('a ');
    expect(stream(['xy'], ['ab', 'cx', 'yz']).written).toEqual([['ab'], [], ['c'], []]);
  });

  it('stop at the sequence that completes first, as a stream would see them', () => {
    expect(firstMatch('abc', ['abc', 'b'])).toBe(1);
    expect(firstMatch('xabc', ['abc', 'bc'])).toBe(1);
    expect(firstMatch('abc', ['z'])).toBe(-1);
    expect(stream(['abc', 'b'], ['a', 'b', 'c']).all).toBe('a');
    expect(stream(['\n\n', 'THE END'], ['x', 'THE', ' EN', 'D', '\n\n']).all).toBe('x');
  });

  it('turn drawn symbols into text: stopped, END unprinted, log-probabilities of every symbol drawn summed', async () => {
    const pieces = ['a', 'b', '\n'];
    const rules = (stops: string[], endId: number | null): TextRules => ({ piece: (id) => pieces[id], endId, stops });
    const drawn = (ids: number[]): AsyncIterable<Drawn> =>
      (async function* () {
        for (const id of ids) yield { id, logProb: -1 };
      })();
    const run = async (ids: number[], r: TextRules) => {
      const gen = printable(drawn(ids), r);
      let text = '';
      let next = await gen.next();
      for (; !next.done; next = await gen.next()) text += next.value;
      return { text, tally: next.value };
    };
    expect(await run([0, 1, 2, 2, 0], rules(['\n\n'], null))).toEqual({ text: 'ab', tally: { symbols: 4, logProb: -4, endedBy: 'stop' } });
    expect(await run([0, 1, 3, 0], rules([], 3))).toEqual({ text: 'ab', tally: { symbols: 3, logProb: -3, endedBy: 'document' } });
    expect(await run([0, 2, 1], rules(['\n\n'], 3))).toEqual({ text: 'a\nb', tally: { symbols: 3, logProb: -3, endedBy: null } });
    // The search's view of the same rules.
    expect(hasEnded([0, 2, 2], rules(['\n\n'], null))).toBe(true);
    expect(hasEnded([0, 2], rules(['\n\n'], null))).toBe(false);
    expect(hasEnded([0, 3], rules([], 3))).toBe(true);
  });
});
