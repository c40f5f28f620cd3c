import { DataError } from './errors.js';

/** Where a BatchStream stands: the next window it will produce. Plain data, so a checkpoint can store it. */
export interface BatchPosition {
  epoch: number;
  window: number;
}

/**
 * One training window. `inputs` and `targets` hold T·B ids laid out time-major
 * (index t·B + b), the order in which a recurrent step consumes them.
 */
export interface Batch {
  inputs: Int32Array;
  targets: Int32Array;
  epoch: number;
  window: number;
  /** True on an epoch's first window: every stream restarts at its beginning, so carried hidden state must be zeroed. */
  resetState: boolean;
}

/**
 * char-rnn style truncated-BPTT batches. The train ids are cut into B
 * contiguous streams of equal length L = floor(n / B) (the last n mod B ids are
 * not used); window w covers positions [w·T, w·T + T) of every stream, with
 * targets one position ahead, so window w + 1 continues exactly where window w
 * stopped and the trainer can carry hidden state across windows. An epoch ends
 * when a stream cannot fill another window: W = floor((L − 1) / T) windows, and
 * the last (L − 1) mod T targets of each stream wait for a bigger window.
 * The order never changes between epochs, which is what makes exact resume a
 * matter of storing `{ epoch, window }`.
 */
export class BatchStream {
  readonly batchSize: number;
  readonly seqLength: number;
  readonly streamLength: number;
  readonly windowsPerEpoch: number;
  private readonly ids: Int32Array;
  private epoch = 0;
  private window = 0;

  constructor(train: Int32Array, batchSize: number, seqLength: number) {
    requirePositiveInteger(batchSize, 'batch size');
    requirePositiveInteger(seqLength, 'sequence length');
    const needed = batchSize * (seqLength + 1);
    if (train.length < needed) {
      throw new DataError(
        `The training split has ${train.length} characters, fewer than the ${needed} that one window of ${batchSize} streams × ${seqLength + 1} characters needs; use a smaller --batch or --seq or a longer corpus.`,
      );
    }
    this.ids = train;
    this.batchSize = batchSize;
    this.seqLength = seqLength;
    this.streamLength = Math.floor(train.length / batchSize);
    this.windowsPerEpoch = Math.floor((this.streamLength - 1) / seqLength);
  }

  get position(): BatchPosition {
    return { epoch: this.epoch, window: this.window };
  }

  /** Makes the next `next()` return the window at `pos`, as if the stream had run up to it. */
  seek(pos: BatchPosition): void {
    const { epoch, window } = pos;
    if (!Number.isSafeInteger(epoch) || epoch < 0 || !Number.isSafeInteger(window) || window < 0) {
      throw new DataError(`Cannot resume the batch stream at ${JSON.stringify(pos)}: epoch and window must be whole numbers from 0.`);
    }
    if (window >= this.windowsPerEpoch) {
      throw new DataError(
        `Cannot resume at window ${window} of epoch ${epoch}: with this data, batch and sequence length an epoch has only ${this.windowsPerEpoch} windows.`,
      );
    }
    this.epoch = epoch;
    this.window = window;
  }

  next(): Batch {
    const batch = this.windowAt(this.window, this.epoch);
    this.window += 1;
    if (this.window === this.windowsPerEpoch) {
      this.window = 0;
      this.epoch += 1;
    }
    return batch;
  }

  private windowAt(window: number, epoch: number): Batch {
    const B = this.batchSize;
    const T = this.seqLength;
    const inputs = new Int32Array(T * B);
    const targets = new Int32Array(T * B);
    for (let b = 0; b < B; b++) {
      const start = b * this.streamLength + window * T;
      for (let t = 0; t < T; t++) {
        inputs[t * B + b] = this.ids[start + t];
        targets[t * B + b] = this.ids[start + t + 1];
      }
    }
    return { inputs, targets, epoch, window, resetState: window === 0 };
  }
}

/**
 * One evaluation window: like a Batch, plus a mask because the streams end
 * unevenly. Padded slots hold id 0 (a valid id, so gathers stay in bounds) and
 * mask 0; padding only ever follows a stream's last scored position, so it can
 * never leak into a score.
 */
export interface EvalWindow {
  index: number;
  inputs: Int32Array;
  targets: Int32Array;
  /** 1 where targets[i] is scored, 0 for padding; time-major like the ids. */
  mask: Float32Array;
  /** Number of scored positions (sum of mask). */
  count: number;
  /** Timesteps that hold at least one scored position; later timesteps are all padding and may be skipped. */
  length: number;
}

export interface EvalWindows extends Iterable<EvalWindow> {
  readonly batchSize: number;
  readonly seqLength: number;
  readonly windowCount: number;
  /** Positions scored over all windows: every id but the first, each exactly once. */
  readonly scoredCount: number;
}

/**
 * Windows covering a whole evaluation split so that every position except the
 * first (which has nothing to be predicted from) is scored exactly once, with
 * hidden state carried across windows: start from zero state and carry it.
 *
 * The n − 1 targets are cut into B contiguous streams whose lengths differ by
 * at most one; stream b's first input is stream b − 1's last target, so no
 * position is skipped or counted twice. Windows keep the full T × B shape and
 * the last one is padded and masked, because a gpu.js plan recompiles when
 * argument sizes change (STACK-NOTES.md) and B is what makes evaluation fast.
 * One stream (B = 1) would give every position its full left context, but it
 * would run B times as many sequential steps; B streams cost only B − 1 cold
 * starts, negligible when the split is much longer than B × T, and the same
 * for every model that is compared.
 */
export function evalWindows(ids: Int32Array, batchSize: number, seqLength: number): EvalWindows {
  requirePositiveInteger(batchSize, 'batch size');
  requirePositiveInteger(seqLength, 'sequence length');
  if (ids.length < 2) {
    throw new DataError(`The evaluation split has ${ids.length} characters; at least 2 are needed to score anything.`);
  }
  const B = batchSize;
  const T = seqLength;
  const scored = ids.length - 1;
  const base = Math.floor(scored / B);
  const extra = scored % B;
  const streamLength = (b: number) => base + (b < extra ? 1 : 0);
  // Index into ids of stream b's first target.
  const streamStart = (b: number) => 1 + b * base + Math.min(b, extra);
  const windowCount = Math.ceil(streamLength(0) / T);

  function makeWindow(w: number): EvalWindow {
    const inputs = new Int32Array(T * B);
    const targets = new Int32Array(T * B);
    const mask = new Float32Array(T * B);
    let count = 0;
    let length = 0;
    for (let b = 0; b < B; b++) {
      const first = streamStart(b) + w * T;
      const steps = Math.min(T, Math.max(0, streamLength(b) - w * T));
      for (let t = 0; t < steps; t++) {
        inputs[t * B + b] = ids[first + t - 1];
        targets[t * B + b] = ids[first + t];
        mask[t * B + b] = 1;
      }
      count += steps;
      length = Math.max(length, steps);
    }
    return { index: w, inputs, targets, mask, count, length };
  }

  return {
    batchSize: B,
    seqLength: T,
    windowCount,
    scoredCount: scored,
    *[Symbol.iterator]() {
      for (let w = 0; w < windowCount; w++) yield makeWindow(w);
    },
  };
}

function requirePositiveInteger(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new DataError(`The ${what} must be a whole number of at least 1, not ${value}.`);
  }
}
