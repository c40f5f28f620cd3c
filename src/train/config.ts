import { CheckpointError } from '../checkpoint/errors.js';
import { DEFAULT_FORGET_BIAS } from '../model/params.js';
import { DOCUMENT_MODES, type DocumentMode } from '../data/documents.js';
import type { SplitPercents } from '../data/split.js';
import type { OptimizerConfig } from './optimizer.js';
import type { Schedule } from './schedule.js';

/** When a run ends: the first limit reached. At least one is set. */
export interface Budget {
  readonly steps?: number;
  readonly epochs?: number;
  readonly minutes?: number;
}

/** Everything about how a model is trained; stored in every checkpoint so --resume repeats it. */
export interface TrainConfig {
  readonly batch: number;
  readonly seq: number;
  readonly lr: number;
  /** Global gradient-norm limit; 0 turns clipping off. */
  readonly clip: number;
  readonly optimizer: OptimizerConfig;
  readonly schedule: Schedule;
  readonly budget: Budget;
  readonly evalEvery: number;
  /** 0 turns periodic samples off. */
  readonly sampleEvery: number;
  readonly sampleLength: number;
  readonly temperature: number;
  readonly seed: number;
  readonly split: SplitPercents;
  /** Consecutive steps with a NaN/∞ loss or gradient (each skipped) before the run gives up. */
  readonly maxNonFinite: number;
  /** LSTM forget-gate bias at initialisation; null keeps PyTorch's uniform draw. */
  readonly forgetBias: number | null;
  /** How `--documents` cut the corpus into documents; null: one continuous text. */
  readonly documents: DocumentMode | null;
}

/** Update count the budget allows, when it is counted in steps or epochs (null for a time budget alone). */
export function plannedSteps(budget: Budget, windowsPerEpoch: number): number | null {
  const limits: number[] = [];
  if (budget.steps !== undefined) limits.push(budget.steps);
  if (budget.epochs !== undefined) limits.push(Math.ceil(budget.epochs * windowsPerEpoch));
  return limits.length ? Math.min(...limits) : null;
}

/** Reads a stored training configuration back from checkpoint metadata, refusing what would resume wrongly. */
export function parseTrainConfig(value: unknown, file: string): TrainConfig {
  const bad = (why: string): CheckpointError => new CheckpointError(`${file} has an unusable training configuration: ${why}.`, { file });
  const v = value as Record<string, unknown> | null;
  if (typeof v !== 'object' || v === null) throw bad('it is not an object');
  const positive = ['batch', 'seq', 'lr', 'evalEvery', 'sampleLength', 'maxNonFinite'] as const;
  for (const k of positive) if (typeof v[k] !== 'number' || !((v[k] as number) > 0)) throw bad(`${k} is not a positive number`);
  for (const k of ['clip', 'sampleEvery', 'temperature', 'seed'] as const) {
    if (typeof v[k] !== 'number' || !Number.isFinite(v[k])) throw bad(`${k} is not a number`);
  }
  const opt = v.optimizer as Record<string, unknown> | null;
  if (typeof opt !== 'object' || opt === null || (opt.kind !== 'adam' && opt.kind !== 'sgd')) throw bad('the optimizer is not adam or sgd');
  const sched = v.schedule as Record<string, unknown> | null;
  if (typeof sched !== 'object' || sched === null || !['constant', 'cosine', 'step'].includes(sched.kind as string)) throw bad('the schedule is unknown');
  if (typeof v.budget !== 'object' || v.budget === null) throw bad('the budget is missing');
  // Checkpoints from before --documents existed trained on one continuous text.
  const documents = v.documents ?? null;
  if (documents !== null && !(DOCUMENT_MODES as readonly unknown[]).includes(documents)) throw bad(`the documents mode ${JSON.stringify(documents)} is not one of ${DOCUMENT_MODES.join(', ')}`);
  // Checkpoints from before --forget-bias existed were initialised with the default.
  if (v.forgetBias === undefined) return { ...(v as unknown as TrainConfig), forgetBias: DEFAULT_FORGET_BIAS, documents: documents as DocumentMode | null };
  if (v.forgetBias !== null && typeof v.forgetBias !== 'number') throw bad('the forget-gate bias is not a number or null');
  const split = v.split as Record<string, unknown> | null;
  if (typeof split !== 'object' || split === null || !['train', 'val', 'test'].every((k) => typeof split[k] === 'number')) throw bad('the split is malformed');
  return { ...(v as unknown as TrainConfig), documents: documents as DocumentMode | null };
}
