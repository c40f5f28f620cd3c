import type { CharVocabJSON } from './vocab.js';
import type { TokenVocabJSON } from './tokenizer.js';

/** How any vocabulary is stored in checkpoint metadata; `type` says which one to rebuild. */
export type VocabularyJSON = CharVocabJSON | TokenVocabJSON;

/**
 * What the trainer, sampler and CLI need from a vocabulary, whatever cuts the
 * text into ids: characters (CharVocab) or tiktoken tokens (TokenVocab).
 */
export interface Vocabulary {
  /** `char` or `tiktoken:<encoding>`, as `--tokenizer` spells it. */
  readonly tokenizer: string;
  readonly size: number;
  /**
   * Id of the end-of-document symbol when the model was trained with
   * `--documents` (generation of one document stops there); null otherwise.
   * It is no text: `decode` turns it into nothing and no text encodes to it.
   */
  readonly endOfDocument: number | null;
  encode(text: string): Int32Array;
  decode(ids: ArrayLike<number>): string;
  /**
   * UTF-8 bytes of the text one id stands for, so bits per byte compares
   * models that cut the same text differently; the end-of-document symbol
   * counts as the one separator byte it stands in for.
   */
  byteLength(id: number): number;
  toJSON(): VocabularyJSON;
}
