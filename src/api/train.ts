import { access } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { CheckpointError } from '../checkpoint/errors.js';
import { estimateCheckpointBytes, lockRunFolder, type RunFolderLock } from '../checkpoint/lock.js';
import { DEFAULT_RETENTION, type RetentionPolicy } from '../checkpoint/retention.js';
import { BACKEND_REQUESTS, type BackendRequest } from '../compute/backend.js';
import { selectTrainingBackend } from '../train/backend-choice.js';
import { loadCorpus } from '../data/corpus.js';
import { DOCUMENT_MODES, corpusDocuments, corpusIds, documentIds, documentVocabulary, splitCorpusIds, type DocumentMode } from '../data/documents.js';
import { parseSplit, validateSplit, type SplitPercents } from '../data/split.js';
import { buildVocabulary, parseTokenizer, type UnseenTokens, type Vocabulary } from '../data/tokenizer.js';
import { CELL_TYPES, type CellType, type ModelConfig } from '../model/config.js';
import { DEFAULT_FORGET_BIAS } from '../model/params.js';
import { Rng } from '../model/rng.js';
import { primeIds } from '../sample/prime.js';
import { Sampler } from '../sample/sampler.js';
import type { Budget, TrainConfig } from '../train/config.js';
import type { DoneEvent, TrainEvent } from '../train/events.js';
import { fitWindows, type SmallCorpus } from '../train/guardrails.js';
import { DEFAULT_OPTIMIZER } from '../train/optimizer.js';
import type { Schedule } from '../train/schedule.js';
import { Trainer, type SampleHook, type TrainerOptions } from '../train/trainer.js';
import { loadForUse, type LoadedCheckpoint } from '../cli/checkpoint-model.js';
import { eventsOf } from './events.js';

/** Defaults for a first run; `npm start` trains with exactly these (README: "Defaults"). */
export const TRAIN_DEFAULTS = {
  cell: 'lstm' as CellType,
  layers: 2,
  hidden: 128,
  embed: 64,
  dropout: 0,
  batch: 32,
  seq: 64,
  lr: 2e-3,
  clip: 5,
  epochs: 10,
  evalEvery: 250,
  sampleEvery: 100,
  sampleLength: 200,
  temperature: 0.8,
  seed: 1,
  split: '90,5,5',
  maxNonFinite: 5,
};

/** One training run, as `charlm train` takes it: each option is its flag in camelCase, and one left out is the flag's default. */
export interface TrainOptions {
  /** A UTF-8 text file, a folder of text files, or a bundled corpus name. */
  readonly corpus: string;
  readonly cell?: CellType;
  readonly layers?: number;
  readonly hidden?: number;
  /** 0 feeds one-hot vectors to the first layer. */
  readonly embed?: number;
  readonly dropout?: number;
  readonly batch?: number;
  readonly seq?: number;
  readonly lr?: number;
  readonly optimizer?: 'adam' | 'sgd';
  readonly momentum?: number;
  readonly schedule?: 'constant' | 'cosine' | 'step';
  readonly warmup?: number;
  readonly decayEvery?: number;
  readonly decayGamma?: number;
  /** Global gradient-norm limit, 0 = off. */
  readonly clip?: number;
  readonly maxNonFinite?: number;
  readonly steps?: number;
  readonly epochs?: number;
  readonly minutes?: number;
  readonly evalEvery?: number;
  /** 0 = no live samples. */
  readonly sampleEvery?: number;
  readonly sampleLength?: number;
  readonly temperature?: number;
  readonly seed?: number;
  /** LSTM forget-gate bias at initialisation, or PyTorch's own uniform draw. */
  readonly forgetBias?: number | 'pytorch';
  /** train,val,test percentages: "90,5,5" or { train, val, test }. */
  readonly split?: string | SplitPercents;
  /** `char`, or `tiktoken:<encoding>`. */
  readonly tokenizer?: string;
  readonly documents?: DocumentMode;
  readonly backend?: BackendRequest;
  /** Run folder [default: checkpoints/<corpus>-<cell>-<time>, under the working folder]. */
  readonly out?: string;
  /** Continue from this checkpoint (same corpus). */
  readonly resume?: string;
  readonly keepLast?: number;
  readonly keepBest?: number;
  /** Refuse a corpus too small for batch × seq instead of choosing smaller values. */
  readonly strict?: boolean;
}

/** How a refusal names an option: `--layers` on the command line, `layers` in a program. */
export type OptionName = (option: keyof TrainOptions) => string;

const asIs: OptionName = (option) => option;

/**
 * Refuses an option outside its range with one sentence naming it. The same
 * rules for the command line (run as yargs' check) and for `train()`.
 */
export function checkTrainOptions(o: Omit<TrainOptions, 'corpus'>, name: OptionName = asIs): void {
  const positiveInt = (k: keyof TrainOptions, v: number | undefined): void => {
    if (v !== undefined && (!Number.isInteger(v) || v < 1)) throw new Error(`${name(k)} must be a whole number of at least 1 (got ${v}).`);
  };
  const nonNegativeInt = (k: keyof TrainOptions, v: number | undefined): void => {
    if (v !== undefined && (!Number.isInteger(v) || v < 0)) throw new Error(`${name(k)} must be a whole number of at least 0 (got ${v}).`);
  };
  const positiveNumber = (k: keyof TrainOptions, v: number | undefined): void => {
    if (v !== undefined && !(Number.isFinite(v) && v > 0)) throw new Error(`${name(k)} must be a number greater than 0 (got ${v}).`);
  };
  const oneOf = <T>(k: keyof TrainOptions, v: T | undefined, choices: readonly T[]): void => {
    if (v !== undefined && !choices.includes(v)) throw new Error(`${name(k)} must be one of ${choices.join(', ')} (got ${String(v)}).`);
  };
  oneOf('cell', o.cell, CELL_TYPES);
  oneOf('optimizer', o.optimizer, ['adam', 'sgd'] as const);
  oneOf('schedule', o.schedule, ['constant', 'cosine', 'step'] as const);
  oneOf('documents', o.documents, DOCUMENT_MODES);
  oneOf('backend', o.backend, BACKEND_REQUESTS);
  for (const k of ['layers', 'hidden', 'batch', 'seq', 'steps', 'evalEvery', 'sampleLength', 'decayEvery', 'maxNonFinite', 'keepLast', 'keepBest'] as const) positiveInt(k, o[k]);
  for (const k of ['warmup', 'embed', 'sampleEvery'] as const) nonNegativeInt(k, o[k]);
  for (const k of ['lr', 'epochs', 'minutes', 'decayGamma'] as const) positiveNumber(k, o[k]);
  if (o.dropout !== undefined && !(o.dropout >= 0 && o.dropout < 1)) throw new Error(`${name('dropout')} must be in [0, 1) (got ${o.dropout}).`);
  if (o.clip !== undefined && !(o.clip >= 0)) throw new Error(`${name('clip')} must be 0 (off) or more (got ${o.clip}).`);
  if (o.temperature !== undefined && !(o.temperature >= 0)) throw new Error(`${name('temperature')} must be 0 (greedy) or more (got ${o.temperature}).`);
  if (o.momentum !== undefined && !(o.momentum >= 0 && o.momentum < 1)) throw new Error(`${name('momentum')} must be in [0, 1) (got ${o.momentum}).`);
  if (o.seed !== undefined && !Number.isInteger(o.seed)) throw new Error(`${name('seed')} must be a whole number (got ${o.seed}).`);
  if (o.forgetBias !== undefined && o.forgetBias !== 'pytorch' && !Number.isFinite(o.forgetBias)) {
    throw new Error(`${name('forgetBias')} must be a number or "pytorch" (got ${String(o.forgetBias)}).`);
  }
  if (o.split !== undefined) {
    try {
      splitPercents(o.split);
    } catch (e) {
      if (!(e instanceof Error)) throw e;
      throw new Error(`${name('split')} ${typeof o.split === 'string' ? o.split : JSON.stringify(o.split)}: ${e.message.charAt(0).toLowerCase()}${e.message.slice(1)}`);
    }
  }
  if (o.tokenizer !== undefined) parseTokenizer(o.tokenizer);
  if (o.documents !== undefined && o.tokenizer !== undefined && o.tokenizer !== 'char') {
    throw new Error(`${name('documents')} works with ${name('tokenizer')} char only: ${o.tokenizer} has no end-of-document symbol here.`);
  }
  if (o.schedule === 'cosine' && o.steps === undefined && o.epochs === undefined) {
    throw new Error(`${name('schedule')} cosine decays over a step budget: give ${name('steps')} or ${name('epochs')}.`);
  }
}

function splitPercents(split: string | SplitPercents): SplitPercents {
  if (typeof split === 'string') return parseSplit(split);
  validateSplit(split);
  return split;
}

/** A run made ready: corpus read, vocabulary and split cut, run folder locked, backend open; nothing trained yet. */
export interface PreparedTraining {
  /** What the trainer takes, except the live-sample hook (the dashboard draws its own). */
  readonly trainer: Omit<TrainerOptions, 'sample'>;
  /** Val/test tokens a tiktoken vocabulary cut from the train split does not have; null for characters. */
  readonly unseen: UnseenTokens | null;
  /** What the small-corpus guardrail chose instead of the requested batch × seq, or null. */
  readonly smallCorpus: SmallCorpus | null;
  readonly lock: RunFolderLock;
}

/** Everything before the first step, in the order `charlm train` refuses things: bad corpus, bad resume, busy or full folder, backend. */
export async function prepareTraining(o: TrainOptions): Promise<PreparedTraining> {
  checkTrainOptions(o);
  const corpus = await loadCorpus(o.corpus);
  const resumed = o.resume ? await readResume(o.resume, corpus.bytes, o.documents) : undefined;
  const budget: Budget | undefined =
    o.steps !== undefined || o.epochs !== undefined || o.minutes !== undefined ? { steps: o.steps, epochs: o.epochs, minutes: o.minutes } : undefined;
  let model: ModelConfig;
  let config: TrainConfig;
  let vocab: Vocabulary;
  let unseen: UnseenTokens | null = null;
  let encoded: Int32Array | undefined;
  if (resumed) {
    // The stored run decides everything that shapes the trajectory; only when and how often to stop and report may change.
    model = resumed.contents.model;
    vocab = resumed.vocab;
    const stored = resumed.training;
    config = {
      ...stored,
      budget: budget ?? stored.budget,
      evalEvery: o.evalEvery ?? stored.evalEvery,
      maxNonFinite: o.maxNonFinite ?? stored.maxNonFinite,
      sampleEvery: o.sampleEvery ?? stored.sampleEvery,
      sampleLength: o.sampleLength ?? stored.sampleLength,
      temperature: o.temperature ?? stored.temperature,
    };
  } else {
    // A token vocabulary is cut from the train split, so the split is known before the model's size.
    const percents = splitPercents(o.split ?? TRAIN_DEFAULTS.split);
    if (o.documents) {
      const documents = corpusDocuments(corpus, o.documents);
      vocab = documentVocabulary(documents);
      encoded = documentIds(documents, vocab);
    } else {
      ({ vocab, unseen } = buildVocabulary(parseTokenizer(o.tokenizer ?? 'char'), corpus.text, percents));
    }
    model = {
      cell: o.cell ?? TRAIN_DEFAULTS.cell,
      vocabSize: vocab.size,
      embed: o.embed ?? TRAIN_DEFAULTS.embed,
      hidden: o.hidden ?? TRAIN_DEFAULTS.hidden,
      layers: o.layers ?? TRAIN_DEFAULTS.layers,
      dropout: o.dropout ?? TRAIN_DEFAULTS.dropout,
    };
    config = {
      batch: o.batch ?? TRAIN_DEFAULTS.batch,
      seq: o.seq ?? TRAIN_DEFAULTS.seq,
      lr: o.lr ?? TRAIN_DEFAULTS.lr,
      clip: o.clip ?? TRAIN_DEFAULTS.clip,
      optimizer: { ...DEFAULT_OPTIMIZER, kind: o.optimizer ?? 'adam', momentum: o.momentum ?? DEFAULT_OPTIMIZER.momentum },
      schedule: schedule(o.schedule ?? 'constant', o.warmup ?? 0, o.decayEvery ?? 1000, o.decayGamma ?? 0.5),
      budget: budget ?? { epochs: TRAIN_DEFAULTS.epochs },
      evalEvery: o.evalEvery ?? TRAIN_DEFAULTS.evalEvery,
      sampleEvery: o.sampleEvery ?? TRAIN_DEFAULTS.sampleEvery,
      sampleLength: o.sampleLength ?? TRAIN_DEFAULTS.sampleLength,
      temperature: o.temperature ?? TRAIN_DEFAULTS.temperature,
      seed: o.seed ?? TRAIN_DEFAULTS.seed,
      split: percents,
      maxNonFinite: o.maxNonFinite ?? TRAIN_DEFAULTS.maxNonFinite,
      forgetBias: o.forgetBias === undefined ? DEFAULT_FORGET_BIAS : o.forgetBias === 'pytorch' ? null : o.forgetBias,
      documents: o.documents ?? null,
    };
  }
  const split = splitCorpusIds(encoded ?? corpusIds(corpus, vocab, config.documents), config.split, vocab.endOfDocument);
  // A resumed run keeps the shape it was stored with, which already fitted.
  const unit = vocab.tokenizer === 'char' ? 'characters' : 'tokens';
  const smallCorpus = resumed ? null : fitWindows(split.train.length, split.val.length, { batch: config.batch, seq: config.seq }, o.strict ?? false, unit);
  if (smallCorpus) config = { ...config, ...smallCorpus.chosen };
  const retention: RetentionPolicy = { keepLast: o.keepLast ?? DEFAULT_RETENTION.keepLast, keepBest: o.keepBest ?? DEFAULT_RETENTION.keepBest };
  const outDir = resolve(o.out ?? (o.resume ? dirname(resolve(o.resume)) : defaultRunFolder(corpus.name, model.cell)));
  // Before the backend starts: a folder that cannot take the run, or that another run holds, is refused at once.
  const lock = await lockRunFolder(outDir, {
    checkpointBytes: estimateCheckpointBytes(model, config.batch, config.optimizer.kind),
    checkpointFiles: retention.keepLast + retention.keepBest,
  });
  try {
    if (!resumed && (await exists(join(outDir, 'latest.safetensors')))) {
      throw new CheckpointError(`${outDir} already holds a run; continue it with --resume ${join(outDir, 'latest.safetensors')} or choose another --out.`);
    }
    const compute = await selectTrainingBackend(o.backend ?? 'auto', { model, batch: config.batch, seq: config.seq });
    const resume = resumed && o.resume ? { path: resolve(o.resume), contents: resumed.contents, progress: resumed.progress } : undefined;
    return {
      trainer: { compute, corpus, vocab, split, model, config, outDir, resume, retention, ...(smallCorpus ? { smallCorpus } : {}) },
      unseen,
      smallCorpus,
      lock,
    };
  } catch (error) {
    lock.release();
    throw error;
  }
}

/** Live samples from the current weights, at the run's temperature; in document mode one document, started after END. */
function liveSamples(p: PreparedTraining): SampleHook {
  const { compute, model, vocab, config } = p.trainer;
  const sampler = new Sampler(compute.runner, model);
  const end = vocab.endOfDocument;
  const prime = end === null ? primeIds(vocab, '') : Int32Array.of(end);
  return async (params, step) => {
    const rng = Rng.scrambled(config.seed * 7919 + step);
    const ids: number[] = [];
    const options = { temperature: config.temperature, topK: 0, topP: 1 };
    for await (const id of sampler.generate(params, prime, config.sampleLength, () => options, rng)) {
      if (id === end) break;
      ids.push(id);
    }
    return { text: vocab.decode(ids), temperature: config.temperature };
  };
}

/**
 * Trains a prepared run, yielding the trainer's events as they happen; the
 * generator returns the `done` event. Aborting `signal` (or leaving the loop
 * early) finishes the step in progress, saves `latest` and ends the run, as
 * Ctrl-C does. The backend and the folder lock are released at the end.
 */
export async function* runTraining(p: PreparedTraining, signal?: AbortSignal): AsyncGenerator<TrainEvent, DoneEvent> {
  try {
    return yield* eventsOf(new Trainer({ ...p.trainer, sample: liveSamples(p) }), signal);
  } finally {
    p.trainer.compute.runner.destroy();
    p.lock.release();
  }
}

/**
 * Trains a model: `for await (const event of train({ corpus: 'notes.txt', steps: 200 }))`
 * gets `start`, `step`, `eval`, `sample`, `checkpoint` and finally `done`, the
 * events `charlm train --json` prints. A bad option, corpus or run folder
 * throws from the first `next()`, before any training.
 */
export async function* train(options: TrainOptions & { readonly signal?: AbortSignal }): AsyncGenerator<TrainEvent, DoneEvent> {
  const prepared = await prepareTraining(options);
  return yield* runTraining(prepared, options.signal);
}

function schedule(kind: 'constant' | 'cosine' | 'step', warmup: number, every: number, gamma: number): Schedule {
  if (kind === 'cosine') return { kind, warmup, minFraction: 0.1 };
  if (kind === 'step') return { kind, warmup, every, gamma };
  return { kind };
}

/**
 * The checkpoint to continue from, validated as sample/eval/info validate it, and refused unless it
 * was trained on this text, cut into documents the same way (a --documents left out means the stored one).
 */
async function readResume(path: string, corpusBytes: number, documents: DocumentMode | undefined): Promise<LoadedCheckpoint> {
  const loaded = await loadForUse(path);
  if (loaded.corpus.bytes !== corpusBytes) {
    throw new CheckpointError(
      `${path} was trained on ${loaded.corpus.name} (${loaded.corpus.bytes} bytes), not on this corpus (${corpusBytes} bytes); resume needs the same text.`,
      { file: path },
    );
  }
  const stored = loaded.training.documents;
  if (documents !== undefined && documents !== stored) {
    const was = stored === null ? 'on one continuous text, without --documents' : `with --documents ${stored}`;
    throw new CheckpointError(`${path} was trained ${was}, so it cannot resume with --documents ${documents}; leave the flag out to continue as it was.`, { file: path });
  }
  return loaded;
}

function defaultRunFolder(corpus: string, cell: CellType): string {
  const d = new Date();
  const pad = (n: number): string => String(n).padStart(2, '0');
  const stamp = `${d.getFullYear()}${pad(d.getMonth() + 1)}${pad(d.getDate())}-${pad(d.getHours())}${pad(d.getMinutes())}${pad(d.getSeconds())}`;
  return join('checkpoints', `${corpus}-${cell}-${stamp}`);
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
