import { CheckpointError } from '../checkpoint/errors.js';
import type { BatchPosition } from '../data/batches.js';
import type { RngState } from '../model/rng.js';

/** Where a run stands; stored in each checkpoint so --resume continues the same trajectory. */
export interface Progress {
  readonly step: number;
  /** The next training window. */
  readonly position: BatchPosition;
  /** The run's RNG (dropout masks) after the last completed step. */
  readonly rng: RngState;
  /** Training time so far (steps only: evaluations, samples and saves excluded), for time budgets across resumes. */
  readonly elapsedMs: number;
  readonly best: { readonly step: number; readonly valLoss: number } | null;
  /** One entry per evaluation. */
  readonly history: readonly { readonly step: number; readonly valLoss: number; readonly valBpc: number }[];
}

/** Reads progress back from checkpoint metadata, refusing anything that would resume wrongly. */
export function parseProgress(value: unknown, file: string): Progress {
  const bad = (why: string): CheckpointError => new CheckpointError(`${file} has unusable training progress: ${why}.`, { file });
  const v = value as Record<string, unknown> | null;
  if (typeof v !== 'object' || v === null) throw bad('it is not an object');
  const whole = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
  if (!whole(v.step)) throw bad('the step is not a whole number');
  const pos = v.position as Record<string, unknown> | null;
  if (typeof pos !== 'object' || pos === null || !whole(pos.epoch) || !whole(pos.window)) throw bad('the data position is malformed');
  if (!Array.isArray(v.rng) || v.rng.length === 0 || !v.rng.every((n) => Number.isInteger(n))) throw bad('the RNG state is malformed');
  if (typeof v.elapsedMs !== 'number' || !(v.elapsedMs >= 0)) throw bad('the elapsed time is malformed');
  const best = v.best as Record<string, unknown> | null;
  if (best !== null && (typeof best !== 'object' || !whole(best.step) || typeof best.valLoss !== 'number')) throw bad('the best record is malformed');
  if (!Array.isArray(v.history)) throw bad('the history is not a list');
  for (const h of v.history as Record<string, unknown>[]) {
    if (typeof h !== 'object' || h === null || !whole(h.step) || typeof h.valLoss !== 'number' || typeof h.valBpc !== 'number') {
      throw bad('a history entry is malformed');
    }
  }
  return v as unknown as Progress;
}
