import { CheckpointError } from '../checkpoint/errors.js';
import { decodeCheckpoint, readCheckpointFile, type CheckpointContents } from '../checkpoint/run-checkpoint.js';
import { DataError } from '../data/errors.js';
import { vocabularyFromJSON, type Vocabulary } from '../data/tokenizer.js';
import { CharVocab } from '../data/vocab.js';
import { parseTrainConfig, type TrainConfig } from '../train/config.js';
import { parseProgress, type Progress } from '../train/progress.js';

/** The corpus a run was trained on, as the trainer records it. */
export interface StoredCorpus {
  readonly name: string;
  /** Absolute path of the file or folder, or `package@version` for a bundled corpus. */
  readonly source: string;
  readonly bytes: number;
}

/** A checkpoint read for use rather than for resuming: every part validated and typed. */
export interface LoadedCheckpoint {
  /** As the user gave it, so messages name the file the way they typed it. */
  readonly path: string;
  readonly fileBytes: number;
  readonly formatVersion: number;
  readonly contents: CheckpointContents;
  readonly vocab: Vocabulary;
  readonly training: TrainConfig;
  readonly progress: Progress;
  readonly corpus: StoredCorpus;
}

/** Reads and validates a checkpoint for sample, eval and info; anything wrong is one CheckpointError sentence naming the file. */
export async function loadForUse(path: string): Promise<LoadedCheckpoint> {
  const buf = await readCheckpointFile(path);
  const contents = decodeCheckpoint(buf, path);
  const bad = (why: string): CheckpointError => new CheckpointError(`${path} is not a usable charlm checkpoint: ${why}.`, { file: path });
  let vocab: Vocabulary;
  try {
    vocab = vocabularyFromJSON(contents.vocab);
  } catch (e) {
    if (e instanceof DataError) throw bad(lowerFirst(e.message.replace(/\.$/, '')));
    throw e;
  }
  if (vocab.size !== contents.model.vocabSize) throw bad(`its vocabulary has ${vocab.size} symbols but its model expects ${contents.model.vocabSize}`);
  const c = contents.corpus as Partial<Record<keyof StoredCorpus, unknown>> | null;
  if (typeof c !== 'object' || c === null || typeof c.name !== 'string' || typeof c.source !== 'string' || !Number.isSafeInteger(c.bytes)) {
    throw bad('its corpus record is malformed');
  }
  const training = parseTrainConfig(contents.training, path);
  if ((training.documents === null) !== (vocab.endOfDocument === null)) {
    throw bad(training.documents === null ? 'its vocabulary has an end-of-document symbol but it was not trained on documents' : `it was trained with --documents ${training.documents} but its vocabulary has no end-of-document symbol`);
  }
  return {
    path,
    fileBytes: buf.length,
    formatVersion: storedFormatVersion(buf),
    contents,
    vocab,
    training,
    progress: parseProgress(contents.progress, path),
    corpus: { name: c.name, source: c.source, bytes: c.bytes as number },
  };
}

/** Only called after decodeCheckpoint accepted the file, so the header is known to be well formed. */
function storedFormatVersion(buf: Buffer): number {
  const length = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + length).toString('utf8')) as { __metadata__: Record<string, string> };
  return Number(header.__metadata__.format_version);
}

/**
 * Encodes text with a checkpoint's vocabulary. A symbol the model never saw is
 * refused with where it is, because "not in the vocabulary" alone leaves the
 * user searching a large file for one character.
 */
export function encodeFor(vocab: Vocabulary, text: string, what: string, checkpoint: string): Int32Array {
  try {
    return vocab.encode(text);
  } catch (e) {
    // Only a character vocabulary refuses text; a token vocabulary maps what it lacks to its reserved id.
    if (!(e instanceof DataError) || !(vocab instanceof CharVocab)) throw e;
    let line = 1;
    let column = 0;
    for (const ch of text) {
      column += 1;
      if (!vocab.has(ch)) {
        const cp = ch.codePointAt(0) as number;
        const symbol = `${JSON.stringify(ch)} (U+${cp.toString(16).toUpperCase().padStart(4, '0')})`;
        throw new DataError(
          `${what} has the character ${symbol} at line ${line}, column ${column}, which is not among the ${vocab.size} symbols ${checkpoint} was trained on.`,
        );
      }
      if (ch === '\n') {
        line += 1;
        column = 0;
      }
    }
    throw e;
  }
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}
