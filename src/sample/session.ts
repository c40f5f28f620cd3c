import type { KernelRunner } from '../compute/kernels.js';
import type { Vocabulary } from '../data/vocabulary.js';
import type { ModelConfig } from '../model/config.js';
import type { Rng } from '../model/rng.js';
import { beamSearch } from './beam.js';
import { noRepeatNgram, type Constraint } from './ngram.js';
import { primeIds } from './prime.js';
import { Sampler, type Drawn } from './sampler.js';
import type { SamplingOptions } from './strategy.js';
import { hasEnded, printable, type SampleTally, type TextRules } from './text.js';

export const DEFAULT_SAMPLE_LENGTH = 500;
/** Most symbols of one document when --length is not given, so a model that never draws END still stops. */
export const DOCUMENT_CAP = 10_000;

export interface SessionSettings {
  /** The encoded --prime; may be empty. */
  readonly prime: Int32Array;
  /** --length, or null when not given. */
  readonly length: number | null;
  readonly stops: readonly string[];
  /** --no-repeat-ngram, 0 when off. */
  readonly noRepeatNgram: number;
}

/** Why a sample ended: its length, the document cap, a stop sequence, END, or the repetition guard leaving no symbol. */
export type Ending = 'length' | 'cap' | 'stop' | 'document' | 'no-repeat-ngram';

/**
 * The samples of one `charlm sample` command: what the model reads first, how
 * long a sample may be, and how drawn symbols become text.
 *
 * A model trained on documents has an end-of-document symbol (END). Without
 * --length every sample is one document: it starts, as training's documents
 * do, by reading END from a zero state, and ends when END is drawn (or at
 * DOCUMENT_CAP symbols). With --length it runs on across documents for exactly
 * that many symbols, each END printed as a newline and read, as in training,
 * from a zero state.
 */
export class SampleSession {
  readonly documents: boolean;
  /** What the model reads before the first generated symbol. */
  readonly start: Int32Array;
  readonly length: number;
  readonly rules: TextRules;
  /** The repetition guard; undefined when off. */
  readonly banned: Constraint | undefined;
  private readonly sampler: Sampler;
  private readonly end: number | null;

  constructor(
    private readonly runner: KernelRunner,
    private readonly model: ModelConfig,
    private readonly params: Float32Array,
    vocab: Vocabulary,
    settings: SessionSettings,
  ) {
    const end = vocab.endOfDocument;
    this.documents = end !== null && settings.length === null;
    if (end !== null) this.start = Int32Array.of(end, ...settings.prime);
    else this.start = settings.prime.length > 0 ? settings.prime : primeIds(vocab, '');
    this.length = settings.length ?? (this.documents ? DOCUMENT_CAP : DEFAULT_SAMPLE_LENGTH);
    this.rules = {
      piece: (id) => (id === end ? '\n' : vocab.decode([id])),
      endId: this.documents ? end : null,
      stops: settings.stops,
    };
    this.banned = settings.noRepeatNgram > 0 ? noRepeatNgram(settings.noRepeatNgram, end) : undefined;
    this.end = end;
    this.sampler = new Sampler(runner, model, end);
  }

  /** One sample from a fresh state: its text as it may be written, then its tally. */
  draw(options: () => SamplingOptions, rng: Rng): AsyncGenerator<string, SampleTally> {
    return printable(this.sampler.generateScored(this.params, this.start, this.length, options, rng, this.banned), this.rules);
  }

  /** The likeliest continuation a beam of `width` finds, as `draw` gives it. */
  async *beam(width: number): AsyncGenerator<string, SampleTally> {
    const best = await beamSearch(this.runner, this.model, this.params, this.start, {
      width,
      length: this.length,
      banned: this.banned,
      ended: (ids) => hasEnded(ids, this.rules),
      documentStart: this.end,
    });
    return yield* printable(asAsync(best), this.rules);
  }

  endingOf(tally: SampleTally): Ending {
    if (tally.endedBy !== null) return tally.endedBy;
    if (tally.symbols < this.length) return 'no-repeat-ngram';
    return this.documents ? 'cap' : 'length';
  }
}

async function* asAsync<T>(items: readonly T[]): AsyncGenerator<T> {
  for (const item of items) yield item;
}
