import { CharVocab } from '../data/vocab.js';
import { paramLayout } from '../model/params.js';
import { Rng } from '../model/rng.js';
import { encodePrime } from '../sample/prime.js';
import { SampleSession } from '../sample/session.js';
import type { SamplingOptions } from '../sample/strategy.js';
import type { BrowserCompute, BrowserMode } from './backend.js';
import type { EmbeddedModel } from './embedded.js';

/** One press of Generate: the settings `charlm sample` takes under the same names. */
export interface GenerateRequest {
  readonly prime: string;
  /** Symbols after the prime; null: the default (a document model: one document). */
  readonly length: number | null;
  readonly sampling: SamplingOptions;
  readonly seed: number;
  /** Independent samples from one random stream, as `charlm sample --count`. */
  readonly count: number;
}

/** How one call went, for the page's status line. */
export interface GenerateResult {
  /** Each sample's text, its prime first, as `charlm sample` prints it. */
  readonly texts: readonly string[];
  readonly symbols: number;
  readonly seconds: number;
  /** Prime characters the model does not know, left out as `--unknown skip` leaves them out. */
  readonly dropped: readonly string[];
}

/** Receives text as it is drawn: `index` is the sample it belongs to. */
export type TextSink = (piece: string, index: number) => void;

/** How long the sampler may hold the page's only thread before the drawn text is painted. */
const PAINT_EVERY_MS = 40;

/**
 * A checkpoint's model in the browser, sampled by the same SampleSession that
 * `charlm sample` uses, so a seed gives the same text in both.
 */
export class BrowserModel {
  private readonly vocab: CharVocab;

  constructor(
    readonly embedded: EmbeddedModel,
    private readonly params: Float32Array,
    private readonly compute: BrowserCompute,
  ) {
    this.vocab = CharVocab.fromJSON(embedded.vocab);
    const expected = paramLayout(embedded.model).total;
    if (params.length !== expected) throw new RangeError(`The weights hold ${params.length} values but this model has ${expected} parameters.`);
  }

  get mode(): BrowserMode {
    return this.compute.mode;
  }

  /** Kernels that ran somewhere other than the chosen mode, with gpu.js's reason; empty when all ran where asked. */
  get fallbacks(): readonly string[] {
    return this.compute.runner.fallbackReasons;
  }

  get passedOver(): readonly string[] {
    return this.compute.passedOver;
  }

  /** Draws `count` samples as `charlm sample` does: one random stream seeded once, each sample from a fresh state. */
  async generate(request: GenerateRequest, sink: TextSink): Promise<GenerateResult> {
    const prime = encodePrime(this.vocab, request.prime, 'skip');
    const session = new SampleSession(this.compute.runner, this.embedded.model, this.params, this.vocab, {
      prime: prime.ids,
      length: request.length,
      stops: [],
      noRepeatNgram: 0,
    });
    const rng = Rng.scrambled(request.seed);
    const started = performance.now();
    let painted = started;
    let symbols = 0;
    const texts: string[] = [];
    for (let index = 0; index < request.count; index++) {
      let text = prime.text;
      sink(prime.text, index);
      const pieces = session.draw(() => request.sampling, rng);
      let next = await pieces.next();
      while (!next.done) {
        text += next.value;
        sink(next.value, index);
        if (performance.now() - painted > PAINT_EVERY_MS) {
          await new Promise((resolve) => setTimeout(resolve, 0));
          painted = performance.now();
        }
        next = await pieces.next();
      }
      symbols += next.value.symbols;
      texts.push(text);
    }
    return { texts, symbols, seconds: (performance.now() - started) / 1000, dropped: prime.dropped };
  }
}
