import { resolve } from 'node:path';
import { selectBackend, type BackendRequest } from '../compute/backend.js';
import { loadCorpus } from '../data/corpus.js';
import { parseSplit, validateSplit, type SplitPercents } from '../data/split.js';
import { DEFAULT_BPE_ENCODING, parseTokenizer, type TiktokenEncodingName, type TokenizerSpec } from '../data/tokenizer.js';
import { CELL_TYPES, type CellType } from '../model/config.js';
import { DEFAULT_FORGET_BIAS } from '../model/params.js';
import { CompareRunner, summarize, type CompareEvent, type CompareSpec, type MatchMode, type ReportRow, type ScoredRun } from '../train/compare.js';
import type { Budget, TrainConfig } from '../train/config.js';
import { DEFAULT_OPTIMIZER } from '../train/optimizer.js';
import { eventsOf } from './events.js';
import { TRAIN_DEFAULTS } from './train.js';

/** Steps per run when neither steps nor minutes is given: long enough to rank cells, short enough to wait for on a CPU. */
export const COMPARE_DEFAULT_STEPS = 1000;
/** Validation passes per run when evalEvery is not given, so every curve has the same number of points. */
const CURVE_POINTS = 10;

/** What `charlm compare` takes, parsed; everything left out is its flag's default. */
export interface CompareSettings {
  readonly cells?: readonly CellType[];
  readonly tokenizers?: readonly TokenizerSpec[];
  readonly seeds?: number;
  readonly layers?: number;
  readonly hidden?: number;
  readonly embed?: number;
  readonly match?: MatchMode;
  readonly steps?: number;
  readonly minutes?: number;
  readonly batch?: number;
  readonly seq?: number;
  readonly lr?: number;
  readonly evalEvery?: number;
  readonly split?: SplitPercents;
  readonly bpe?: TiktokenEncodingName;
  /** Validation bits per character for "time to target" [default: the worst run's best]. */
  readonly targetBpc?: number;
}

/** The runs' shared plan and budget: the same for the command line and for `compare()`. */
export function compareSpec(s: CompareSettings): { spec: CompareSpec; budget: Budget } {
  const steps = s.steps ?? (s.minutes === undefined ? COMPARE_DEFAULT_STEPS : undefined);
  const budget = { steps, minutes: s.minutes };
  const training: TrainConfig = {
    batch: s.batch ?? TRAIN_DEFAULTS.batch,
    seq: s.seq ?? TRAIN_DEFAULTS.seq,
    lr: s.lr ?? TRAIN_DEFAULTS.lr,
    clip: TRAIN_DEFAULTS.clip,
    optimizer: DEFAULT_OPTIMIZER,
    schedule: { kind: 'constant' },
    budget,
    evalEvery: s.evalEvery ?? (steps !== undefined ? Math.max(1, Math.ceil(steps / CURVE_POINTS)) : 100),
    sampleEvery: 0,
    sampleLength: TRAIN_DEFAULTS.sampleLength,
    temperature: TRAIN_DEFAULTS.temperature,
    seed: 1,
    split: s.split ?? parseSplit(TRAIN_DEFAULTS.split),
    maxNonFinite: 5,
    forgetBias: DEFAULT_FORGET_BIAS,
    documents: null,
  };
  const spec: CompareSpec = {
    cells: s.cells ?? CELL_TYPES,
    tokenizers: s.tokenizers ?? [{ kind: 'char' }],
    seeds: s.seeds ?? 1,
    layers: s.layers ?? TRAIN_DEFAULTS.layers,
    hidden: s.hidden ?? TRAIN_DEFAULTS.hidden,
    embed: s.embed ?? TRAIN_DEFAULTS.embed,
    match: s.match ?? 'params',
    training,
    bpeEncoding: s.bpe ?? DEFAULT_BPE_ENCODING,
    targetBpc: s.targetBpc ?? null,
  };
  return { spec, budget };
}

export interface CompareOptions extends Omit<CompareSettings, 'tokenizers' | 'split'> {
  /** A UTF-8 text file, a folder of text files, or a bundled corpus name. */
  readonly corpus: string;
  /** Folder for the runs' checkpoints (one subfolder a run). */
  readonly out: string;
  /** `char`, `tiktoken:gpt2`, … [default: char]. */
  readonly tokenizers?: readonly string[];
  /** train,val,test percentages: "90,5,5" or { train, val, test }. */
  readonly split?: string | SplitPercents;
  readonly backend?: BackendRequest;
  /** Stops the run in progress (its checkpoint saved) and skips the rest. */
  readonly signal?: AbortSignal;
}

/** What a comparison came to: the rows of `charlm compare`'s report table, and every run. */
export interface CompareResult {
  readonly rows: ReportRow[];
  /** Every run, with where it reached the target. */
  readonly runs: ScoredRun[];
  /** The target in force (null only when no run has a validation curve). */
  readonly targetBpc: number | null;
  /** True when it was stopped before every run finished. */
  readonly stopped: boolean;
  readonly outDir: string;
}

function checkWhole(name: string, v: number | undefined, least: number): void {
  if (v !== undefined && !(Number.isInteger(v) && v >= least)) throw new RangeError(`${name} must be a whole number of at least ${least} (got ${v}).`);
}

/**
 * Trains each cell (× tokenizer × seed) under one budget, yielding the events
 * `charlm compare --json` prints; returns the report's rows. The report files
 * (report.md, .json, .svg) are the command's to write.
 */
export async function* compare(o: CompareOptions): AsyncGenerator<CompareEvent, CompareResult> {
  for (const k of ['layers', 'hidden', 'steps', 'seeds', 'batch', 'seq', 'evalEvery'] as const) checkWhole(k, o[k], 1);
  checkWhole('embed', o.embed, 0);
  for (const k of ['lr', 'minutes', 'targetBpc'] as const) {
    const v = o[k];
    if (v !== undefined && !(Number.isFinite(v) && v > 0)) throw new RangeError(`${k} must be a number greater than 0 (got ${v}).`);
  }
  for (const c of o.cells ?? []) if (!CELL_TYPES.includes(c)) throw new RangeError(`cells takes ${CELL_TYPES.join(', ')}, not ${JSON.stringify(c)}.`);
  let split: SplitPercents | undefined;
  if (typeof o.split === 'string') split = parseSplit(o.split);
  else if (o.split !== undefined) validateSplit((split = o.split));
  const { spec } = compareSpec({ ...o, split, tokenizers: o.tokenizers?.map(parseTokenizer) });
  const corpus = await loadCorpus(o.corpus);
  const outDir = resolve(o.out);
  const compute = await selectBackend(o.backend ?? 'auto');
  const runner = new CompareRunner({ compute, corpus, spec, outDir });
  try {
    const results = yield* eventsOf(runner, o.signal);
    const { targetBpc, runs, rows } = summarize(results, spec.seeds, spec.targetBpc);
    return { rows, runs, targetBpc, stopped: runner.stopped, outDir };
  } finally {
    compute.runner.destroy();
  }
}
