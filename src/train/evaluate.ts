import { evalWindows } from '../data/batches.js';
import { keepMask } from '../data/documents.js';
import type { Network } from '../model/network.js';
import { zeroState } from '../model/state.js';
import { lossMetrics, type LossMetrics } from './metrics.js';

export interface Evaluation extends LossMetrics {
  /** Tokens scored. */
  readonly tokens: number;
}

/**
 * Scores every position of `ids` but the first exactly once, with hidden state
 * carried along B streams (see evalWindows), using the training network's
 * window shape so no kernel is recompiled. `byteLength(id)` is the UTF-8 size of
 * a token, for bits per byte. With an end-of-document id the state is reset
 * wherever it is the input, as in training.
 */
export async function evaluate(
  network: Network,
  params: Float32Array,
  ids: Int32Array,
  byteLength: (id: number) => number,
  endOfDocument: number | null = null,
): Promise<Evaluation> {
  const windows = evalWindows(ids, network.batch, network.seq);
  let state = zeroState(network.config, network.batch);
  let nats = 0;
  for (const w of windows) {
    const keep = endOfDocument === null ? undefined : keepMask(w.inputs, endOfDocument);
    const window = { tokens: Float32Array.from(w.inputs), targets: Float32Array.from(w.targets), weights: w.mask, keep };
    const r = await network.forward(params, window, state);
    network.discard(r.trace);
    nats += r.loss;
    state = r.state;
  }
  let bytes = 0;
  for (let i = 1; i < ids.length; i++) bytes += byteLength(ids[i]);
  return { ...lossMetrics(nats, windows.scoredCount, bytes), tokens: windows.scoredCount };
}
