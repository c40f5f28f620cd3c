import type { KernelRunner } from '../compute/kernels.js';
import type { ModelConfig } from '../model/config.js';
import { Network, type Prediction } from '../model/network.js';
import type { Rng } from '../model/rng.js';
import { zeroState, type RecurrentState } from '../model/state.js';
import { DevicePredictor } from './device-predictor.js';
import { unconstrained, type Constraint } from './ngram.js';
import { argmax, draw, logSumExp, softmax, withoutBanned, type SamplingOptions } from './strategy.js';

/** One generated symbol and its natural-log probability under the model (temperature 1, nothing truncated or banned). */
export interface Drawn {
  readonly id: number;
  readonly logProb: number;
}

/**
 * Generates one symbol at a time from a model: a batch-1, one-step network whose
 * hidden state is carried from symbol to symbol. A model trained on documents
 * reads their end symbol (`documentStart`) from a zero state, as its training
 * windows did, so the state is reset wherever that symbol is read.
 */
export class Sampler {
  private readonly network: Network;
  /** On webgpu with a pipeline that carries state: symbols run on the device, one readback of the logits each (created on first use). */
  private device: DevicePredictor | null = null;
  /** The device predictor carries one stream's state: a second generator at the same time steps on the host. */
  private deviceBusy = false;

  constructor(
    private readonly runner: KernelRunner,
    readonly model: ModelConfig,
    private readonly documentStart: number | null = null,
  ) {
    this.network = new Network(runner, model, 1, 1);
  }

  /**
   * Feeds `prime` (at least one id), then yields `length` new ids. `options` is
   * called before each symbol, so a temperature turned mid-stream applies to
   * the next symbol.
   */
  async *generate(params: Float32Array, prime: Int32Array, length: number, options: () => SamplingOptions, rng: Rng): AsyncGenerator<number> {
    for await (const d of this.generateScored(params, prime, length, options, rng)) yield d.id;
  }

  /**
   * As `generate`, with each symbol's log-probability, and never a symbol
   * `banned` rules out given prime + symbols so far; it ends early when every
   * symbol is ruled out.
   */
  async *generateScored(
    params: Float32Array,
    prime: Int32Array,
    length: number,
    options: () => SamplingOptions,
    rng: Rng,
    banned: Constraint = unconstrained,
  ): AsyncGenerator<Drawn> {
    // The weights stay as they are while this generator runs (it ends, returns or is
    // abandoned through return()), so wasm-gemm keeps them packed between symbols.
    this.runner.pin(params);
    const device = DevicePredictor.runsOn(this.runner) && !this.deviceBusy ? (this.device ??= new DevicePredictor(this.runner, this.model)) : null;
    if (device) this.deviceBusy = true;
    try {
      let logits: Float32Array = new Float32Array(this.model.vocabSize);
      const history = Array.from(prime);
      let advance: (id: number) => Promise<void>;
      if (device) {
        device.load(params);
        device.setState(zeroState(this.model, 1));
        advance = async (id) => {
          if (id === this.documentStart) device.setState(zeroState(this.model, 1));
          logits = await device.next(id);
        };
      } else {
        const table = await this.network.inputTable(params);
        let state: RecurrentState = zeroState(this.model, 1);
        // each step writes the next state into the other of two, instead of fresh arrays
        let spare: RecurrentState = zeroState(this.model, 1);
        advance = async (id) => {
          const next = await this.step(params, id, state, table, spare);
          spare = state;
          ({ logits, state } = next);
        };
      }
      for (const id of prime) await advance(id);
      for (let i = 0; i < length; i++) {
        const id = await this.choose(logits, options(), rng, banned(history));
        if (id < 0) return;
        yield { id, logProb: logits[id] - logSumExp(logits) };
        history.push(id);
        if (i + 1 < length) await advance(id);
      }
    } finally {
      if (device) this.deviceBusy = false;
      this.runner.unpin(params);
    }
  }

  /** −1 when every id is banned. */
  private async choose(logits: Float32Array, o: SamplingOptions, rng: Rng, banned: ReadonlySet<number>): Promise<number> {
    if (o.temperature > 0) {
      const probs = withoutBanned(softmax(logits, 1 / o.temperature), banned);
      // null: at a very low temperature every allowed symbol rounded to 0, so the likeliest allowed one it is.
      if (probs !== null) return draw(probs, o, rng);
    }
    return argmax(logits, banned);
  }

  private async step(params: Float32Array, id: number, state: RecurrentState, table: Float32Array | null, into: RecurrentState): Promise<Prediction> {
    const tokens = Float32Array.of(id);
    const from = id === this.documentStart ? zeroState(this.model, 1) : state;
    return this.network.predict(params, tokens, from, table, into);
  }
}
