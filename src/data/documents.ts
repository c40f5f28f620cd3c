import type { Corpus } from './corpus.js';
import { DataError } from './errors.js';
import { splitIds, validateSplit, type Split, type SplitPercents } from './split.js';
import { CharVocab } from './vocab.js';
import type { Vocabulary } from './vocabulary.js';

/** How `--documents` cuts a corpus: each non-empty line, blocks between blank lines, or each file of a folder. */
export const DOCUMENT_MODES = ['line', 'blank-line', 'file'] as const;
export type DocumentMode = (typeof DOCUMENT_MODES)[number];

/** One or more lines holding nothing but spaces or tabs, with the line break before them. */
const BLANK_LINES = /\n(?:[^\S\n]*\n)+/;

/**
 * The documents of a corpus, in corpus order. Each is trimmed of leading and
 * trailing whitespace (a stray space or blank line at either end is never
 * what a name or a recipe is about, and END then follows the last real
 * character); whatever is empty after that is dropped. `file` needs a folder:
 * a single text would be one document, from which a model learns one start
 * and one end, so it is refused.
 */
export function corpusDocuments(corpus: Corpus, mode: DocumentMode): string[] {
  let pieces: string[];
  if (mode === 'line') pieces = corpus.text.split('\n');
  else if (mode === 'blank-line') pieces = corpus.text.split(BLANK_LINES);
  else pieces = filesOf(corpus);
  const documents = pieces.map((p) => p.trim()).filter((p) => p.length > 0);
  if (documents.length === 0) {
    const unit = mode === 'line' ? 'line' : mode === 'file' ? 'file' : 'block between blank lines';
    throw new DataError(`${corpus.name} holds no documents: every ${unit} is empty or only whitespace.`);
  }
  return documents;
}

function filesOf(corpus: Corpus): string[] {
  const starts = corpus.fileStarts;
  if (starts === undefined) {
    throw new DataError(
      `--documents file takes one document per file of a folder, and ${corpus.name} is not a folder (line or blank-line cut a single file).`,
    );
  }
  // Files are joined with one "\n", which is not part of either file.
  return starts.map((start, i) => corpus.text.slice(start, i + 1 < starts.length ? starts[i + 1] - 1 : undefined));
}

/** A character vocabulary of the documents' characters plus END. */
export function documentVocabulary(documents: readonly string[]): CharVocab {
  return CharVocab.fromText(documents.join(''), { endOfDocument: true });
}

/**
 * The id stream END doc₁ END doc₂ … END docₙ END: END is the input before
 * every document (the model learns how documents start, from a reset state)
 * and the target after each one's last symbol (it learns when they stop).
 */
export function documentIds(documents: readonly string[], vocab: Vocabulary): Int32Array {
  const end = vocab.endOfDocument;
  if (end === null) throw new Error('documentIds needs a vocabulary with an end-of-document symbol.');
  const encoded = documents.map((d) => vocab.encode(d));
  const out = new Int32Array(encoded.reduce((n, ids) => n + ids.length + 1, 1));
  out[0] = end;
  let at = 1;
  for (const ids of encoded) {
    out.set(ids, at);
    at += ids.length;
    out[at++] = end;
  }
  return out;
}

/** The text of ids with each END as a line break, for what must see documents apart (a BPE's token count). */
export function textWithBreaks(ids: Int32Array, vocab: Vocabulary): string {
  const end = vocab.endOfDocument;
  if (end === null) return vocab.decode(ids);
  const parts: string[] = [];
  let from = 0;
  for (let i = 0; i <= ids.length; i++) {
    if (i === ids.length || ids[i] === end) {
      parts.push(vocab.decode(ids.subarray(from, i)));
      from = i + 1;
    }
  }
  return parts.join('\n');
}

/** The ids a run trains on: the whole text, or in document mode the END-separated documents. */
export function corpusIds(corpus: Corpus, vocab: Vocabulary, mode: DocumentMode | null): Int32Array {
  return mode === null ? vocab.encode(corpus.text) : documentIds(corpusDocuments(corpus, mode), vocab);
}

/**
 * Train / val / test parts of a run's ids. Without END this is `splitIds`. With
 * END each boundary moves forward to the next END, which ends one part (as its
 * last target) and starts the next (as its first input, never scored): every
 * document lies whole in one part, and every part starts as a document does.
 * A 0% part is empty, as with `splitIds`.
 */
export function splitCorpusIds(ids: Int32Array, percents: SplitPercents, end: number | null): Split {
  if (end === null) return splitIds(ids, percents);
  validateSplit(percents);
  const n = ids.length;
  const nextEnd = (from: number): number => {
    let i = Math.min(from, n - 1);
    while (i < n - 1 && ids[i] !== end) i++;
    return i;
  };
  const trainEnd = nextEnd(Math.floor((n * percents.train) / 100));
  const valEnd = nextEnd(Math.max(trainEnd, Math.floor((n * (percents.train + percents.val)) / 100)));
  return {
    train: ids.subarray(0, trainEnd + 1),
    val: percents.val === 0 ? ids.subarray(trainEnd, trainEnd) : ids.subarray(trainEnd, valEnd + 1),
    test: percents.test === 0 ? ids.subarray(valEnd, valEnd) : ids.subarray(valEnd, n),
  };
}

/**
 * The Network's keep mask for a window's inputs ([T·B], time-major): 0 where
 * the input is END, so the hidden state entering that step is reset to zero,
 * 1 elsewhere.
 */
export function keepMask(inputs: ArrayLike<number>, end: number): Float32Array {
  const keep = new Float32Array(inputs.length);
  for (let i = 0; i < inputs.length; i++) keep[i] = inputs[i] === end ? 0 : 1;
  return keep;
}
