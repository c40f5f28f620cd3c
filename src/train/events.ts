import type { ModelConfig } from '../model/config.js';
import type { SmallCorpus } from './guardrails.js';

/** What the trainer tells its subscribers (TUI, plain log, JSON lines); it knows nothing of how they show it. */
export type TrainEvent = StartEvent | StepEvent | EvalEvent | SampleEvent | CheckpointEvent | DoneEvent | ErrorEvent;

export interface StartEvent {
  readonly event: 'start';
  readonly corpus: string;
  readonly corpusBytes: number;
  readonly vocabSize: number;
  readonly model: ModelConfig;
  readonly params: number;
  /** What executes, e.g. "webasm + wasm-gemm (…)": never a guess. */
  readonly backend: string;
  readonly seed: number;
  readonly batch: number;
  readonly seq: number;
  readonly step: number;
  /** Planned total steps (null when only a time budget is set). */
  readonly totalSteps: number | null;
  readonly windowsPerEpoch: number;
  readonly outDir: string;
  readonly resumedFrom: string | null;
  /** Present when the corpus was too small for the requested batch × seq: what the run uses instead, and why. */
  readonly smallCorpus?: SmallCorpus;
}

export interface StepEvent {
  readonly event: 'step';
  readonly step: number;
  readonly epoch: number;
  readonly loss: number;
  readonly lr: number;
  readonly gradNorm: number;
  /** Smoothed training throughput. */
  readonly charsPerSec: number;
  /** Training time so far: evaluations, samples, saves and pauses excluded (what --minutes counts). */
  readonly elapsedMs: number;
}

export interface EvalEvent {
  readonly event: 'eval';
  readonly step: number;
  readonly valLoss: number;
  readonly valPpl: number;
  readonly valBpc: number;
  readonly valBitsPerByte: number;
  /** This evaluation is the best so far (and was saved as best). */
  readonly best: boolean;
}

export interface SampleEvent {
  readonly event: 'sample';
  readonly step: number;
  readonly temperature: number;
  readonly text: string;
}

export interface CheckpointEvent {
  readonly event: 'checkpoint';
  readonly step: number;
  readonly kind: 'latest' | 'best';
  readonly path: string;
}

export interface DoneEvent {
  readonly event: 'done';
  readonly step: number;
  /** True when the run was asked to stop before its budget (Ctrl-C, q). */
  readonly stopped: boolean;
  readonly valLoss: number | null;
  readonly valPpl: number | null;
  readonly valBpc: number | null;
  readonly valBitsPerByte: number | null;
  readonly checkpoint: string;
  readonly best: string | null;
  readonly backend: string;
}

export interface ErrorEvent {
  readonly event: 'error';
  readonly step: number;
  readonly message: string;
}
