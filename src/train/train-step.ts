import type { KernelRunner } from '../compute/kernels.js';
import type { ModelConfig } from '../model/config.js';
import { Network, type DropoutMasks, type Window } from '../model/network.js';
import type { RecurrentState } from '../model/state.js';
import { Optimizer, clipScale, type OptimizerConfig, type OptimizerState } from './optimizer.js';

export interface StepResult {
  /** Mean training loss of the window before the update, nats per token. */
  readonly loss: number;
  /** Global gradient norm before clipping. */
  readonly gradNorm: number;
  /** False when the loss or a gradient was not finite: nothing was updated. */
  readonly applied: boolean;
  readonly params: Float32Array;
  readonly optimizer: OptimizerState;
  readonly state: RecurrentState;
}

/** A full training step: forward, backward through time, global-norm clip, optimizer update. */
export class TrainStep {
  readonly network: Network;
  readonly optimizer: Optimizer;

  constructor(runner: KernelRunner, config: ModelConfig, batch: number, seq: number, optimizer: OptimizerConfig) {
    this.network = new Network(runner, config, batch, seq);
    this.optimizer = new Optimizer(runner, optimizer, this.network.layout.total);
  }

  async run(
    params: Float32Array,
    optimizer: OptimizerState,
    window: Window,
    state: RecurrentState,
    masks: DropoutMasks | null,
    lr: number,
    maxNorm: number,
  ): Promise<StepResult> {
    const forward = await this.network.forward(params, window, state, masks);
    const grads = await this.network.backward(forward.trace);
    const gradNorm = await this.optimizer.gradientNorm(grads);
    if (!Number.isFinite(forward.loss) || !Number.isFinite(gradNorm)) {
      return { loss: forward.loss, gradNorm, applied: false, params, optimizer, state };
    }
    const next = await this.optimizer.update(params, grads, optimizer, lr, clipScale(gradNorm, maxNorm));
    return { loss: forward.loss, gradNorm, applied: true, params: next.params, optimizer: next.state, state: forward.state };
  }
}
