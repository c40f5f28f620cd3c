import { describeBackend, selectBackend, type BackendRequest, type Compute } from '../compute/backend.js';
import type { Vocabulary } from '../data/vocabulary.js';
import type { ModelConfig } from '../model/config.js';
import { Network } from '../model/network.js';
import { Rng } from '../model/rng.js';
import { encodePrime, type UnknownSymbols } from '../sample/prime.js';
import { SampleSession, type SessionSettings } from '../sample/session.js';
import { DEFAULT_SAMPLING, type SamplingOptions } from '../sample/strategy.js';
import type { SampleTally } from '../sample/text.js';
import { evaluate } from '../train/evaluate.js';
import { encodeFor, loadForUse, type LoadedCheckpoint } from '../cli/checkpoint-model.js';

/**
 * Fixed, as char-rnn (-seed 123) and nanoGPT (1337) fix theirs and as `charlm
 * train --seed` does: the same call prints the same text, in scripts and in
 * docs; a seed is how a caller asks for different text.
 */
export const DEFAULT_SAMPLE_SEED = 1;
/** Rng.scrambled keeps 32 signed bits; beyond this two seeds would silently give the same text. */
export const MAX_SEED = 2 ** 31 - 1;

export interface LoadModelOptions {
  /** gpu.js backend, as `--backend` takes it [default: auto]. */
  readonly backend?: BackendRequest;
}

/** One sample's settings; every one left out is `charlm sample`'s default. */
export interface SampleOptions {
  /** Text the model reads first (not part of the returned sample) [default: none]. */
  readonly prime?: string;
  /** A prime symbol outside the vocabulary: refused (an error), or skipped [default: refuse]. */
  readonly unknown?: UnknownSymbols;
  /** Symbols to generate [default: 500; a document model: one document]. */
  readonly length?: number;
  /** 0 = always the most likely symbol [default: 1]. */
  readonly temperature?: number;
  /** Draw only from the k most likely symbols, 0 = all [default: 0]. */
  readonly topK?: number;
  /** Draw only from the most likely symbols whose probability adds up to p [default: 1]. */
  readonly topP?: number;
  /** The same seed gives the same text [default: 1]. */
  readonly seed?: number;
  /** End the sample where one of these first appears, leaving it out. */
  readonly stop?: readonly string[];
  /** Never repeat an n-gram of this many symbols, 0 = off [default: 0]. */
  readonly noRepeatNgram?: number;
}

const whole = (v: number, least: number): boolean => Number.isSafeInteger(v) && v >= least;

function check(ok: boolean, what: string, rule: string, value: unknown): void {
  if (!ok) throw new RangeError(`${what} must be ${rule}, not ${String(value)}.`);
}

/** The options a caller gave, checked as `charlm sample` checks its flags, with the defaults filled in. */
function samplingFrom(o: SampleOptions): { sampling: SamplingOptions; seed: number } {
  const sampling: SamplingOptions = {
    temperature: o.temperature ?? DEFAULT_SAMPLING.temperature,
    topK: o.topK ?? DEFAULT_SAMPLING.topK,
    topP: o.topP ?? DEFAULT_SAMPLING.topP,
  };
  const seed = o.seed ?? DEFAULT_SAMPLE_SEED;
  check(o.length === undefined || whole(o.length, 1), 'length', 'a whole number of at least 1', o.length);
  check(Number.isFinite(sampling.temperature) && sampling.temperature >= 0, 'temperature', '0 (greedy) or a larger number', sampling.temperature);
  check(whole(sampling.topK, 0), 'topK', 'a whole number, 0 (no limit) or more', sampling.topK);
  check(Number.isFinite(sampling.topP) && sampling.topP > 0 && sampling.topP <= 1, 'topP', 'a number above 0 and at most 1', sampling.topP);
  check(whole(seed, 0) && seed <= MAX_SEED, 'seed', `a whole number from 0 to ${MAX_SEED}`, seed);
  check(o.noRepeatNgram === undefined || whole(o.noRepeatNgram, 0), 'noRepeatNgram', 'a whole number, 0 (off) or more', o.noRepeatNgram);
  return { sampling, seed };
}

/**
 * A checkpoint loaded for sampling and scoring, with the backend that runs it.
 * `charlm sample` works through the same object.
 */
export class Model {
  constructor(
    /** Everything the file holds, validated. */
    readonly checkpoint: LoadedCheckpoint,
    readonly compute: Compute,
  ) {}

  get config(): ModelConfig {
    return this.checkpoint.contents.model;
  }

  get vocab(): Vocabulary {
    return this.checkpoint.vocab;
  }

  /** What executes the kernels, e.g. "webasm + wasm-gemm (…)". */
  get backend(): string {
    return describeBackend(this.compute);
  }

  /** The sampling session `charlm sample` and `sample`/`stream` draw from. */
  session(settings: SessionSettings): SampleSession {
    const { contents } = this.checkpoint;
    return new SampleSession(this.compute.runner, contents.model, contents.params, this.vocab, settings);
  }

  /**
   * One sample as it is drawn, a symbol's text at a time (a character, or a
   * token's text for a tiktoken model); the generator's return value is the
   * tally (symbols drawn and their summed log-probability).
   */
  stream(options: SampleOptions = {}): AsyncGenerator<string, SampleTally> {
    const { sampling, seed } = samplingFrom(options);
    const prime = encodePrime(this.vocab, options.prime ?? '', options.unknown ?? 'refuse');
    const session = this.session({ prime: prime.ids, length: options.length ?? null, stops: options.stop ?? [], noRepeatNgram: options.noRepeatNgram ?? 0 });
    return session.draw(() => sampling, Rng.scrambled(seed));
  }

  /** One sample as a string: the generated text only, without the prime. */
  async sample(options: SampleOptions = {}): Promise<string> {
    let text = '';
    for await (const piece of this.stream(options)) text += piece;
    return text;
  }

  /**
   * Natural-log probability of `text` under the model from a fresh state: the
   * sum over every symbol but the first, which is only read (as `charlm eval`
   * scores a corpus). A document model reads its end-of-document symbol first,
   * as its documents start in training, so every symbol of `text` is scored.
   */
  async logProb(text: string): Promise<number> {
    const { vocab, contents, path } = this.checkpoint;
    const body = encodeFor(vocab, text, 'The text', path);
    const end = vocab.endOfDocument;
    const ids = end === null ? body : Int32Array.of(end, ...body);
    if (ids.length < 2) throw new RangeError(`logProb needs text of at least ${end === null ? 2 : 1} symbols to score one.`);
    const network = new Network(this.compute.runner, contents.model, 1, Math.min(this.checkpoint.training.seq, ids.length - 1));
    const r = await evaluate(network, contents.params, ids, (id) => vocab.byteLength(id), end);
    return -r.loss * r.tokens;
  }

  /** Releases the backend's worker threads and device buffers; the model is unusable afterwards. */
  close(): void {
    this.compute.runner.destroy();
  }
}

/** Reads and validates a checkpoint (one clear error naming the file if it is not a charlm checkpoint) and opens a backend for it. */
export async function loadModel(path: string, options: LoadModelOptions = {}): Promise<Model> {
  const checkpoint = await loadForUse(path);
  return new Model(checkpoint, await selectBackend(options.backend ?? 'auto'));
}
