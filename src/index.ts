// The library: what `import … from 'charlm'` gets. The commands of bin/charlm are built on these same functions.
export { loadModel, Model, DEFAULT_SAMPLE_SEED, type LoadModelOptions, type SampleOptions } from './api/model.js';
export { train, TRAIN_DEFAULTS, type TrainOptions } from './api/train.js';
export { evaluate, EVAL_PARTS, type EvalPart, type EvalResult, type EvaluateOptions } from './api/evaluate.js';
export { compare, COMPARE_DEFAULT_STEPS, type CompareOptions, type CompareResult } from './api/compare.js';
export type { TrainEvent, StartEvent, StepEvent, EvalEvent, SampleEvent, CheckpointEvent, DoneEvent, ErrorEvent } from './train/events.js';
export type { CompareEvent, ReportRow, RunResult, ScoredRun } from './train/compare.js';
export type { SampleTally } from './sample/text.js';
export type { ModelConfig, CellType } from './model/config.js';
export type { BackendRequest } from './compute/backend.js';
export type { DocumentMode } from './data/documents.js';
export { BackendError } from './compute/backend.js';
export { CheckpointError } from './checkpoint/errors.js';
export { DataError } from './data/errors.js';
export { TrainingError } from './train/trainer.js';
