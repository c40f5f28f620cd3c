import { describe, expect, it } from 'vitest';
import { DataError } from '../../src/data/errors.js';
import { CharVocab } from '../../src/data/vocab.js';
import { encodePrime } from '../../src/sample/prime.js';

const vocab = CharVocab.fromText('The quick brown fox\n');

describe('--prime', () => {
  it('encodes a prime the model knows, whatever --unknown says', () => {
    const p = encodePrime(vocab, 'The fox', 'refuse');
    expect(p).toMatchObject({ text: 'The fox', dropped: [] });
    expect(vocab.decode(p.ids)).toBe('The fox');
  });

  it('refuses a symbol outside the vocabulary in one sentence naming it', () => {
    expect(() => encodePrime(vocab, 'The café', 'refuse')).toThrow(DataError);
    expect(() => encodePrime(vocab, 'The fox é', 'refuse')).toThrow(
      new DataError('The prime contains "é" (U+00E9), which is not in this model\'s vocabulary; use --unknown skip to drop it.'),
    );
    expect(() => encodePrime(vocab, 'Zoë 🐋', 'refuse')).toThrow(
      new DataError('The prime contains "Z" (U+005A), "ë" (U+00EB) and "🐋" (U+1F40B), which are not in this model\'s vocabulary; use --unknown skip to drop them.'),
    );
  });

  it('drops such symbols under --unknown skip and says which', () => {
    const p = encodePrime(vocab, 'The Zebra fox, Zoë', 'skip');
    expect(p.text).toBe('The ebr fox o');
    expect(vocab.decode(p.ids)).toBe(p.text);
    expect(p.dropped).toEqual(['Z', 'a', ',', 'ë']);
    expect(encodePrime(vocab, 'ZZ', 'skip')).toMatchObject({ text: '', dropped: ['Z'] });
  });
});
