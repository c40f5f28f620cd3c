import { softmaxRows, type KernelSource } from '../compute/kernel-sources.js';
import type { KernelRunner } from '../compute/kernels.js';
import type { ModelConfig } from '../model/config.js';
import { Network } from '../model/network.js';
import type { Rng } from '../model/rng.js';
import { zeroState, type RecurrentState } from '../model/state.js';
import { argmax, draw, type SamplingOptions } from './strategy.js';

/**
 * Generates one symbol at a time from a model: a batch-1, one-step network whose
 * hidden state is carried from symbol to symbol.
 */
export class Sampler {
  private readonly network: Network;
  private readonly softmax: KernelSource;
  private readonly one = new Float32Array(1);

  constructor(
    private readonly runner: KernelRunner,
    readonly model: ModelConfig,
  ) {
    this.network = new Network(runner, model, 1, 1);
    this.softmax = softmaxRows(1, model.vocabSize);
  }

  /**
   * Feeds `prime` (at least one id), then yields `length` new ids. `options` is
   * called before each symbol, so a temperature turned mid-stream applies to
   * the next symbol.
   */
  async *generate(params: Float32Array, prime: Int32Array, length: number, options: () => SamplingOptions, rng: Rng): AsyncGenerator<number> {
    let state: RecurrentState = zeroState(this.model, 1);
    let logits: Float32Array = new Float32Array(this.model.vocabSize);
    for (const id of prime) ({ logits, state } = await this.step(params, id, state));
    for (let i = 0; i < length; i++) {
      const o = options();
      const id = o.temperature <= 0 ? argmax(logits) : draw(await this.runner.run(this.softmax, logits, 1 / o.temperature), o, rng);
      yield id;
      if (i + 1 < length) ({ logits, state } = await this.step(params, id, state));
    }
  }

  private async step(params: Float32Array, id: number, state: RecurrentState): Promise<{ logits: Float32Array; state: RecurrentState }> {
    const tokens = Float32Array.of(id);
    const r = await this.network.forward(params, { tokens, targets: tokens, weights: this.one }, state);
    return { logits: r.logits, state: r.state };
  }
}
