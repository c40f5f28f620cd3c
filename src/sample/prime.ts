import type { CharVocab } from '../data/vocab.js';

/**
 * The ids a sample starts from. An empty prime starts after a newline when the
 * vocabulary has one (text then begins as a fresh line would), else after its
 * first symbol; that starting symbol is not printed. A prime symbol outside the
 * vocabulary is refused by `encode`, naming it.
 */
export function primeIds(vocab: CharVocab, prime: string): Int32Array {
  if (prime !== '') return vocab.encode(prime);
  return Int32Array.of(vocab.has('\n') ? vocab.encode('\n')[0] : 0);
}
