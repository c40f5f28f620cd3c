import { describe, expect, it } from 'vitest';
import { DataError } from '../../src/data/errors.js';
import { CharVocab } from '../../src/data/vocab.js';

describe('CharVocab', () => {
  it('treats an astral-plane character as one symbol and round-trips it', () => {
    const text = 'a😀b𝄞a😀\n';
    const vocab = CharVocab.fromText(text);
    expect(vocab.symbols).toEqual(['\n', 'a', 'b', '𝄞', '😀']); // U+1D11E < U+1F600
    expect(vocab.size).toBe(5);
    const ids = vocab.encode(text);
    expect(ids).toBeInstanceOf(Int32Array);
    expect(Array.from(ids)).toEqual([1, 4, 2, 3, 1, 4, 0]);
    expect(vocab.decode(ids)).toBe(text);
  });

  it('sorts by code point, not by UTF-16 code unit', () => {
    // U+FFFD sorts after the surrogate 0xD83D of 😀 in UTF-16, but before U+1F600 by code point.
    const vocab = CharVocab.fromText('😀\uFFFD');
    expect(vocab.symbols).toEqual(['\uFFFD', '😀']);
  });

  it('splits a ZWJ emoji sequence into its code points (a character model works below graphemes)', () => {
    const family = '👨‍👩‍👧';
    const vocab = CharVocab.fromText(family);
    expect(vocab.symbols).toEqual(['\u200D', '👧', '👨', '👩']);
    expect(vocab.encode(family)).toHaveLength(5);
    expect(vocab.decode(vocab.encode(family))).toBe(family);
  });

  it('gives the same ids for the same characters whatever order they appear in', () => {
    expect(CharVocab.fromText('cab').symbols).toEqual(CharVocab.fromText('abcba').symbols);
  });

  it('refuses to encode a symbol it does not have, naming it', () => {
    const vocab = CharVocab.fromText('abc');
    expect(() => vocab.encode('abd')).toThrow(DataError);
    expect(() => vocab.encode('abd')).toThrow('The character "d" (U+0064) is not in the vocabulary.');
    expect(() => vocab.encode('a🐳')).toThrow('The character "🐳" (U+1F433) is not in the vocabulary.');
  });

  it('refuses to decode ids outside the vocabulary', () => {
    const vocab = CharVocab.fromText('ab');
    expect(() => vocab.decode([0, 2])).toThrow('Token id 2 is outside the vocabulary of 2 symbols.');
    expect(() => vocab.decode([-1])).toThrow(DataError);
    expect(() => vocab.decode([0.5])).toThrow(DataError);
  });

  it('answers has() for single symbols only', () => {
    const vocab = CharVocab.fromText('a😀');
    expect(vocab.has('😀')).toBe(true);
    expect(vocab.has('a')).toBe(true);
    expect(vocab.has('b')).toBe(false);
    expect(vocab.has('a😀')).toBe(false);
    expect(vocab.has('\uD83D')).toBe(false);
    expect(vocab.has('')).toBe(false);
  });

  it('refuses empty text', () => {
    expect(() => CharVocab.fromText('')).toThrow(DataError);
  });

  it('survives a JSON round trip, as a checkpoint stores it', () => {
    const vocab = CharVocab.fromText('Hello, 世界 🌍\n\t');
    const json = JSON.parse(JSON.stringify(vocab)) as unknown;
    const back = CharVocab.fromJSON(json);
    expect(back.symbols).toEqual(vocab.symbols);
    expect(back.encode('Hello 🌍')).toEqual(vocab.encode('Hello 🌍'));
  });

  describe('with an end-of-document symbol', () => {
    const vocab = CharVocab.fromText('ba\n', { endOfDocument: true });

    it('puts END after every character, where no text can reach it', () => {
      expect(vocab.symbols).toEqual(['\n', 'a', 'b']);
      expect([vocab.endOfDocument, vocab.size]).toEqual([3, 4]);
      expect(Array.from(vocab.encode('ab\n'))).toEqual([1, 2, 0]);
      expect(CharVocab.fromText('ab').endOfDocument).toBeNull();
    });

    it('decodes END to nothing and counts it as one byte', () => {
      expect(vocab.decode([3, 1, 2, 3])).toBe('ab');
      expect(vocab.byteLength(3)).toBe(1);
      expect(() => vocab.decode([4])).toThrow('Token id 4 is outside the vocabulary of 4 symbols.');
    });

    it('survives a JSON round trip, and a vocabulary stored before document mode still loads without one', () => {
      expect(JSON.parse(JSON.stringify(vocab))).toEqual({ type: 'char', symbols: ['\n', 'a', 'b'], endOfDocument: 3 });
      const back = CharVocab.fromJSON(JSON.parse(JSON.stringify(vocab)));
      expect([back.endOfDocument, back.size]).toEqual([3, 4]);
      const old = CharVocab.fromJSON({ type: 'char', symbols: ['a', 'b'] });
      expect([old.endOfDocument, old.size]).toEqual([null, 2]);
      expect(old.toJSON()).toEqual({ type: 'char', symbols: ['a', 'b'] });
    });

    it.each([2, 0, '3', null, 3.5])('fromJSON refuses the end-of-document id %j for 3 characters', (end) => {
      expect(() => CharVocab.fromJSON({ type: 'char', symbols: ['\n', 'a', 'b'], endOfDocument: end })).toThrow(DataError);
    });
  });

  it.each([
    ['not an object', 'abc'],
    ['null', null],
    ['another tokenizer', { type: 'tiktoken', symbols: ['a'] }],
    ['no symbols', { type: 'char', symbols: [] }],
    ['symbols not a list', { type: 'char', symbols: 'ab' }],
    ['an entry of two characters', { type: 'char', symbols: ['a', 'bc'] }],
    ['an empty entry', { type: 'char', symbols: [''] }],
    ['a non-string entry', { type: 'char', symbols: ['a', 7] }],
    ['a duplicate', { type: 'char', symbols: ['a', 'a'] }],
    ['unsorted entries', { type: 'char', symbols: ['b', 'a'] }],
  ])('fromJSON refuses %s', (_what, value) => {
    expect(() => CharVocab.fromJSON(value)).toThrow(DataError);
  });
});
