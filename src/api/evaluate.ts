import { isAbsolute } from 'node:path';
import { isBundled, loadBundled } from '../data/bundled.js';
import { loadCorpus, type Corpus } from '../data/corpus.js';
import { DataError } from '../data/errors.js';
import { corpusDocuments, documentIds, splitCorpusIds, textWithBreaks } from '../data/documents.js';
import { DEFAULT_BPE_ENCODING, perBpeToken, type TiktokenEncodingName } from '../data/tokenizer.js';
import { Network } from '../model/network.js';
import { evaluate as scoreIds } from '../train/evaluate.js';
import { evalStreams } from '../train/guardrails.js';
import type { BackendRequest } from '../compute/backend.js';
import { encodeFor, type LoadedCheckpoint } from '../cli/checkpoint-model.js';
import { loadModel, type Model } from './model.js';

export const EVAL_PARTS = ['val', 'test', 'all'] as const;
export type EvalPart = (typeof EVAL_PARTS)[number];

export interface EvaluateOptions {
  /** Text file, folder or bundled name to score [default: the corpus the checkpoint was trained on]. */
  readonly corpus?: string;
  /** Part to score, cut by the run's train/val/test percentages [default: val without a corpus, all with one]. */
  readonly split?: EvalPart;
  /** Used when a path is given; a loaded Model keeps its own. */
  readonly backend?: BackendRequest;
}

export interface EvalResult {
  /** Nats per symbol. */
  readonly loss: number;
  readonly ppl: number;
  readonly bpc: number;
  readonly bitsPerByte: number;
  /** Symbols scored. */
  readonly chars: number;
  readonly split: EvalPart;
  /** The corpus's name, as `charlm corpora` and the run folder name it. */
  readonly corpus: string;
  readonly backend: string;
  /** Perplexity per BPE token of the same text, so a character model compares with token-level ones. */
  readonly bpe: { readonly encoding: TiktokenEncodingName; readonly tokens: number; readonly ppl: number };
}

/**
 * Loss, perplexity, bits per character and per byte of a checkpoint on a
 * corpus, as `charlm eval` reports them: with the run's own window shape, so on
 * its validation split the number equals the val loss training reported.
 */
export async function evaluate(checkpoint: string | Model, options: EvaluateOptions = {}): Promise<EvalResult> {
  const model = typeof checkpoint === 'string' ? await loadModel(checkpoint, { backend: options.backend }) : checkpoint;
  try {
    return await score(model, options);
  } finally {
    if (typeof checkpoint === 'string') model.close();
  }
}

async function score(model: Model, options: EvaluateOptions): Promise<EvalResult> {
  const ckpt = model.checkpoint;
  if (options.split === 'test' || options.split === 'val') refuseEmptyPart(ckpt, options.split);
  const corpus = options.corpus === undefined ? await trainingCorpus(ckpt) : await loadCorpus(options.corpus);
  const part: EvalPart = options.split ?? (options.corpus === undefined ? 'val' : 'all');
  const { documents } = ckpt.training;
  const all =
    documents === null ? encodeFor(ckpt.vocab, corpus.text, options.corpus ?? corpus.source, ckpt.path) : documentIds(corpusDocuments(corpus, documents), ckpt.vocab);
  const ids = part === 'all' ? all : splitCorpusIds(all, ckpt.training.split, ckpt.vocab.endOfDocument)[part];
  if (ids.length < 2) {
    const s = ckpt.training.split;
    throw new DataError(
      `The ${part} part of ${corpus.name} has ${ids.length} characters under the run's ${s.train},${s.val},${s.test} split, and scoring needs at least 2; try --split all.`,
    );
  }

  // The run's own window shape: evaluation carries state along B streams, so the same
  // shape is what makes this number equal the val loss the training run reported.
  // Shrinking it to the text loses nothing: the streams and windows stay the same.
  const scored = ids.length - 1;
  const batch = evalStreams(ckpt.training.batch, ckpt.training.seq, scored);
  const seq = Math.min(ckpt.training.seq, Math.ceil(scored / batch));
  const { vocab } = ckpt;
  const network = new Network(model.compute.runner, ckpt.contents.model, batch, seq);
  const r = await scoreIds(network, ckpt.contents.params, ids, (id) => vocab.byteLength(id), vocab.endOfDocument);
  // The first id is only read, never scored, so the BPE count is over the same text the nats are.
  const bpe = perBpeToken(r.loss * r.tokens, textWithBreaks(ids.subarray(1), vocab));
  return {
    loss: r.loss,
    ppl: r.ppl,
    bpc: r.bpc,
    bitsPerByte: r.bitsPerByte,
    chars: r.tokens,
    split: part,
    corpus: corpus.name,
    backend: model.backend,
    bpe: { encoding: DEFAULT_BPE_ENCODING, tokens: bpe.bpeTokens, ppl: bpe.ppl },
  };
}

/**
 * A run trained with a 0% test (or val) part has none to score: refused by name
 * rather than scoring an empty part, so a missing test split is never mistaken
 * for one that was held out.
 */
function refuseEmptyPart(ckpt: LoadedCheckpoint, part: 'val' | 'test'): void {
  const s = ckpt.training.split;
  if (s[part] > 0) return;
  const which = part === 'test' ? 'test' : 'validation';
  throw new DataError(
    `${ckpt.path} was trained with --split ${s.train},${s.val},${s.test}, which held out no ${which} split; score a whole other text instead (charlm eval ${ckpt.path} <corpus>, without --split).`,
  );
}

/**
 * The corpus named in the checkpoint, refused unless it still has the size it had
 * when trained on: the split boundaries are positions, so a changed text would
 * silently score a different (and possibly trained-on) part.
 */
async function trainingCorpus(ckpt: LoadedCheckpoint): Promise<Corpus> {
  const stored = ckpt.corpus;
  const passIt = `pass the corpus to score: charlm eval ${ckpt.path} <corpus>`;
  let corpus: Corpus;
  if (isAbsolute(stored.source)) {
    try {
      corpus = await loadCorpus(stored.source);
    } catch (e) {
      if (!(e instanceof DataError)) throw e;
      throw new DataError(`${ckpt.path} was trained on ${stored.source}, which cannot be read now (${e.message.replace(/\.$/, '')}); ${passIt}.`);
    }
  } else if (isBundled(stored.name)) {
    // Not loadCorpus(name): a file of that name in the working folder would win over the bundled text.
    const { text, source } = loadBundled(stored.name);
    corpus = { name: stored.name, source, text, bytes: Buffer.byteLength(text) };
  } else {
    throw new DataError(`${ckpt.path} was trained on ${stored.name} (${stored.source}), which charlm cannot find by itself; ${passIt}.`);
  }
  if (corpus.bytes !== stored.bytes) {
    throw new DataError(
      `${corpus.source} has changed since ${ckpt.path} was trained on it (${stored.bytes} bytes then, ${corpus.bytes} now), so its validation split cannot be found; ${passIt}.`,
    );
  }
  return corpus;
}
