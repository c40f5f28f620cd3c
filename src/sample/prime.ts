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
