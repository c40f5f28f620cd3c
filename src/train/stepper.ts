import type { Compute } from '../compute/backend.js';
import type { ModelConfig } from '../model/config.js';
import { Network, type DropoutMasks, type Window } from '../model/network.js';
import type { RecurrentState } from '../model/state.js';
import type { OptimizerConfig, OptimizerState } from './optimizer.js';
import { ResidentTrainStep } from './resident-step.js';
import { TrainStep } from './train-step.js';

/** What a run holds between steps: the weights, the optimizer's memory and the carried state. */
export interface TrainingContents {
  readonly params: Float32Array;
  readonly optimizer: OptimizerState;
  readonly state: RecurrentState;
}

export interface StepReport {
  readonly loss: number;
  readonly gradNorm: number;
  /** Why the step was not applied, or null when it was. */
  readonly rejected: string | null;
}

/** The shape of a training run's steps: batch, window, optimizer, clipping and the loss above which a step is refused. */
export interface StepShape {
  readonly batch: number;
  readonly seq: number;
  readonly optimizer: OptimizerConfig;
  readonly clip: number;
  readonly lossLimit: number;
}

/**
 * Where a run's contents live between steps and the step that updates them.
 * On the host (webasm, cpu) they are Float32Arrays the step replaces; on
 * webgpu (buffers) and headlessgl (textures) they stay on the device and
 * `contents()` reads them back, which a run does only to save, sample or
 * evaluate.
 */
export interface Stepper {
  /** True when the contents live on the device. */
  readonly resident: boolean;
  /** The network for evaluation and sampling on the host side (shares the runner). */
  readonly network: Network;
  step(window: Window, masks: DropoutMasks | null, lr: number): Promise<StepReport>;
  contents(): Promise<TrainingContents>;
  /** Replaces the carried state (a new pass over the data starts from zeros). */
  setState(state: RecurrentState): void;
  destroy(): void;
}

/**
 * A loss this many times a uniform guess's (ln V nats) only comes from
 * weights already thrown far off by too large a step: Adam at --lr 1e6 stays
 * finite (its step is about lr whatever the gradient) but reaches ~1e6 nats
 * at step 2, and --lr 100 runs at 1e3–5e3. A real run starts near 1× and its
 * worst windows stay within a few times that; --lr 1 peaked at 6× and recovered.
 */
export const EXPLODED_LOSS_FACTOR = 1000;

export function lossLimit(model: ModelConfig): number {
  return EXPLODED_LOSS_FACTOR * Math.log(Math.max(model.vocabSize, 2));
}

const NOT_FINITE = 'the loss or gradient was NaN or infinite';
const WEIGHTS_INFINITE = 'the update would have made weights infinite';

function lossExceeded(loss: number): string {
  return `the loss exceeded ${EXPLODED_LOSS_FACTOR} times a uniform guess's (${loss.toPrecision(3)} nats per token)`;
}

/** The resident step on the GPU backends (webgpu, headlessgl); the host step on webasm and cpu. */
export function createStepper(compute: Compute, model: ModelConfig, shape: StepShape, start: TrainingContents): Stepper {
  return compute.backend === 'webgpu' || compute.backend === 'headlessgl' ? new DeviceStepper(compute, model, shape, start) : new HostStepper(compute, model, shape, start);
}

class HostStepper implements Stepper {
  readonly resident = false;
  private readonly train: TrainStep;
  private current: TrainingContents;

  constructor(
    compute: Compute,
    model: ModelConfig,
    private readonly shape: StepShape,
    start: TrainingContents,
  ) {
    this.train = new TrainStep(compute.runner, model, shape.batch, shape.seq, shape.optimizer);
    this.current = start;
  }

  get network(): Network {
    return this.train.network;
  }

  async step(window: Window, masks: DropoutMasks | null, lr: number): Promise<StepReport> {
    const { params, optimizer, state } = this.current;
    const r = await this.train.run(params, optimizer, window, state, masks, lr, this.shape.clip);
    const rejected = !r.applied ? NOT_FINITE : r.loss > this.shape.lossLimit ? lossExceeded(r.loss) : !allFinite(r.params) ? WEIGHTS_INFINITE : null;
    if (rejected === null) this.current = { params: r.params, optimizer: r.optimizer, state: r.state };
    return { loss: r.loss, gradNorm: r.gradNorm, rejected };
  }

  contents(): Promise<TrainingContents> {
    return Promise.resolve(this.current);
  }

  setState(state: RecurrentState): void {
    this.current = { ...this.current, state };
  }

  destroy(): void {}
}

class DeviceStepper implements Stepper {
  readonly resident = true;
  private readonly train: ResidentTrainStep;
  /** The host-side network for evaluation and samples, which read the weights back first. */
  readonly network: Network;

  constructor(
    compute: Compute,
    model: ModelConfig,
    private readonly shape: StepShape,
    start: TrainingContents,
  ) {
    this.train = new ResidentTrainStep(compute.runner, model, shape.batch, shape.seq, shape.optimizer);
    this.train.load(start.params, start.optimizer, start.state);
    this.network = new Network(compute.runner, model, shape.batch, shape.seq);
  }

  async step(window: Window, masks: DropoutMasks | null, lr: number): Promise<StepReport> {
    const r = await this.train.run(window, masks, lr, this.shape.clip, this.shape.lossLimit).catch((e: unknown) => {
      throw deviceLost(e) ?? e;
    });
    const rejected = r.applied
      ? null
      : !Number.isFinite(r.loss) || !Number.isFinite(r.gradNorm)
        ? NOT_FINITE
        : r.loss > this.shape.lossLimit
          ? lossExceeded(r.loss)
          : WEIGHTS_INFINITE;
    return { loss: r.loss, gradNorm: r.gradNorm, rejected };
  }

  contents(): Promise<TrainingContents> {
    return this.train.read().catch((e: unknown) => {
      throw deviceLost(e) ?? e;
    });
  }

  setState(state: RecurrentState): void {
    this.train.setState(state);
  }

  destroy(): void {
    this.train.destroy();
  }
}

/** The GPU went away (driver reset, unplugged, destroyed): what the device held since the last read is gone. */
export class DeviceLostError extends Error {
  override readonly name = 'DeviceLostError';
}

function deviceLost(e: unknown): DeviceLostError | null {
  const message = e instanceof Error ? e.message : String(e);
  return /device (was |is )?(lost|destroyed)|lost device|destroyed device/i.test(message) ? new DeviceLostError(message.split('\n')[0]) : null;
}

function allFinite(a: Float32Array): boolean {
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    // x − x is 0 for every finite x and NaN for ±∞ and NaN; cheaper than Number.isFinite per element.
    if (x - x !== 0) return false;
  }
  return true;
}
