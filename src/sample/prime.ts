import { DataError } from '../data/errors.js';
import type { Vocabulary } from '../data/vocabulary.js';

/**
 * The ids a sample starts from. An empty prime starts after a newline when the
 * vocabulary has one (text then begins as a fresh line would), else after its
 * first symbol; that starting symbol is not printed. A prime symbol outside the
 * vocabulary is refused by `encode`, naming it.
 */
export function primeIds(vocab: Vocabulary, prime: string): Int32Array {
  if (prime !== '') return vocab.encode(prime);
  try {
    const newline = vocab.encode('\n');
    if (newline.length === 1) return newline;
  } catch (e) {
    if (!(e instanceof DataError)) throw e;
  }
  return Int32Array.of(0);
}

/** `refuse`: a prime symbol the model does not know is an error; `skip`: it is dropped. */
export type UnknownSymbols = 'refuse' | 'skip';
export const UNKNOWN_SYMBOLS: readonly UnknownSymbols[] = ['refuse', 'skip'];

export interface EncodedPrime {
  /** The prime the model reads: the text as given, less any dropped symbols. */
  readonly text: string;
  readonly ids: Int32Array;
  /** Each dropped symbol once, in the order first seen. */
  readonly dropped: readonly string[];
}

/**
 * Encodes a --prime. Symbols outside the vocabulary are refused, naming every
 * one, or dropped. A tiktoken vocabulary never refuses text (what it lacks maps
 * to its reserved id), so only a character vocabulary ever drops anything.
 */
export function encodePrime(vocab: Vocabulary, prime: string, unknown: UnknownSymbols): EncodedPrime {
  const whole = tryEncode(vocab, prime);
  if (whole !== null) return { text: prime, ids: whole, dropped: [] };
  const kept: string[] = [];
  const dropped = new Set<string>();
  for (const ch of prime) {
    if (tryEncode(vocab, ch) !== null) kept.push(ch);
    else dropped.add(ch);
  }
  if (dropped.size > 0 && unknown === 'refuse') {
    const named = [...dropped].map(describeSymbol);
    const list = named.length === 1 ? named[0] : `${named.slice(0, -1).join(', ')} and ${named[named.length - 1]}`;
    const one = named.length === 1;
    throw new DataError(
      `The prime contains ${list}, which ${one ? 'is' : 'are'} not in this model's vocabulary; use --unknown skip to drop ${one ? 'it' : 'them'}.`,
    );
  }
  const text = kept.join('');
  return { text, ids: vocab.encode(text), dropped: [...dropped] };
}

/** null when the vocabulary refuses the text. */
function tryEncode(vocab: Vocabulary, text: string): Int32Array | null {
  try {
    return vocab.encode(text);
  } catch (e) {
    if (e instanceof DataError) return null;
    throw e;
  }
}

/** The symbol and its code point, so an invisible one (a tab, a zero-width joiner) can still be found. */
export function describeSymbol(symbol: string): string {
  const cp = symbol.codePointAt(0) as number;
  return `${JSON.stringify(symbol)} (U+${cp.toString(16).toUpperCase().padStart(4, '0')})`;
}
