import { gateCount, type ModelConfig } from './config.js';
import { parameterCount } from './params.js';

/** Bytes per megabyte in every memory figure charlm reports (MiB). */
export const BYTES_PER_MB = 2 ** 20;
const FLOAT_BYTES = 4;

/** What one Adam training step over a window holds at once, in MB, by kind. */
export interface WorkingSet {
  /** Weights and their gradients. */
  readonly paramsMb: number;
  /** Adam's first and second moments. */
  readonly adamMb: number;
  /** What the forward pass keeps for the backward sweep over one window. */
  readonly activationsMb: number;
  readonly totalMb: number;
}

/**
 * Float32 values a window's forward trace keeps per position, following what
 * Network.forward records: per layer h_t and h_{t−1}, plus the post-activation
 * gates of LSTM and GRU, LSTM's c_t and c_{t−1}, GRU's recurrent projections;
 * the embedded input of layer 0; the logits and their log-sum-exp. Layers above
 * the first read the hidden outputs below them, so those are not counted twice;
 * with dropout each masked input is a copy.
 */
export function activationsPerPosition(m: ModelConfig): number {
  const H = m.hidden;
  const G = gateCount(m.cell) * H;
  const perLayer = m.cell === 'lstm' ? 2 * H + G + 2 * H : m.cell === 'gru' ? 2 * H + G + G : 2 * H;
  const dropped = m.dropout > 0 ? (m.layers - 1) * H : 0;
  return m.layers * perLayer + dropped + m.embed + m.vocabSize + 1;
}

/**
 * The model's working set from its shapes alone: 4 floats per parameter
 * (weight, gradient, two Adam moments) and the activations of a batch × seq
 * window. Kernel scratch buffers and the runtime are not in it; the measured
 * peak RSS shows those.
 */
export function workingSet(m: ModelConfig, batch: number, seq: number): WorkingSet {
  const mb = (floats: number): number => (floats * FLOAT_BYTES) / BYTES_PER_MB;
  const P = parameterCount(m);
  const paramsMb = mb(2 * P);
  const adamMb = mb(2 * P);
  const activationsMb = mb(batch * seq * activationsPerPosition(m));
  return { paramsMb, adamMb, activationsMb, totalMb: paramsMb + adamMb + activationsMb };
}
