import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describeBackend, type Compute } from '../compute/backend.js';
import type { Corpus } from '../data/corpus.js';
import { splitIds, type Split } from '../data/split.js';
import {
  buildVocabulary,
  perBpeToken,
  tokenizerName,
  type TiktokenEncodingName,
  type TokenizerSpec,
  type UnseenTokens,
  type Vocabulary,
} from '../data/tokenizer.js';
import type { CellType, ModelConfig } from '../model/config.js';
import { parameterCount } from '../model/params.js';
import { workingSet } from '../model/working-set.js';
import type { TrainConfig } from './config.js';
import type { CheckpointEvent, EvalEvent, SampleEvent, StepEvent } from './events.js';
import { PeakRss } from './peak-rss.js';
import { defaultTarget, reachTarget } from './target.js';
import { Trainer, TrainingError } from './trainer.js';

export type MatchMode = 'params' | 'hidden';

/** How far a matched model's parameter count may lie from the reference LSTM's. */
export const PARAM_TOLERANCE = 0.02;

export interface CompareSpec {
  readonly cells: readonly CellType[];
  readonly tokenizers: readonly TokenizerSpec[];
  /** Seeds 1..seeds; seed s of every cell and tokenizer is the same number. */
  readonly seeds: number;
  readonly layers: number;
  readonly hidden: number;
  readonly embed: number;
  readonly match: MatchMode;
  /** Shared by every run; `seed` is replaced per run. */
  readonly training: TrainConfig;
  /** The BPE whose token count "perplexity per BPE token" divides by. */
  readonly bpeEncoding: TiktokenEncodingName;
  /** Validation bits per character that "time to target" measures against; null: the worst run's best. */
  readonly targetBpc: number | null;
}

/** One run of a comparison, decided before any of them starts. */
export interface RunPlan {
  /** `<cell>-<tokenizer>-s<seed>`, also the name of its subfolder. */
  readonly id: string;
  readonly index: number;
  readonly cell: CellType;
  readonly tokenizer: string;
  readonly seed: number;
  readonly model: ModelConfig;
  readonly params: number;
  /** |params − reference| / reference, where the reference is the LSTM at --hidden with the same tokenizer. */
  readonly paramsOff: number;
  readonly unseen: UnseenTokens | null;
}

/** One validation pass, placed on both axes the report draws. */
export interface CurvePoint {
  readonly step: number;
  /** Training time when the pass ran: what --minutes counts, evaluations and saves excluded. */
  readonly trainMs: number;
  /** Wall time since the run started, evaluations and saves included. */
  readonly wallMs: number;
  readonly valLoss: number;
  /** Bits per token of the model's own vocabulary (per character for char). */
  readonly valBpc: number;
  /** Bits per character of the scored validation text, whatever the tokenizer: the scale --target-bpc uses. */
  readonly textBpc: number;
  readonly valBitsPerByte: number;
}

/** The numbers of the run's best validation pass (the checkpoint kept), or why there are none. */
export interface RunResult {
  readonly run: string;
  readonly cell: CellType;
  readonly tokenizer: string;
  readonly seed: number;
  readonly hidden: number;
  readonly params: number;
  readonly vocabSize: number;
  readonly unseenTokens: number | null;
  readonly steps: number;
  readonly bestStep: number | null;
  readonly valLoss: number | null;
  readonly valPpl: number | null;
  readonly valBpc: number | null;
  readonly valBitsPerByte: number | null;
  readonly pplPerBpeToken: number | null;
  /** Training throughput in characters of text per second (tokens × characters per token for a token model). */
  readonly charsPerSec: number | null;
  /** Training time (the --minutes clock). */
  readonly trainMs: number;
  /** Wall time, evaluations and saves included. */
  readonly wallMs: number;
  /** Peak resident memory the run added to the process, over its size just before the model existed. */
  readonly peakRssMb: number;
  /** Parameters, gradients, Adam moments and one window's activations, from the shapes. */
  readonly workingSetMb: number;
  readonly best: string | null;
  readonly stopped: boolean;
  readonly error: string | null;
  readonly curve: readonly CurvePoint[];
}

type Tagged<E> = E & { readonly run: string };

export type CompareEvent =
  | {
      readonly event: 'compare-start';
      readonly corpus: string;
      readonly corpusBytes: number;
      readonly backend: string;
      readonly match: MatchMode;
      readonly outDir: string;
      readonly runs: readonly RunPlan[];
    }
  | {
      readonly event: 'run-start';
      readonly run: string;
      readonly index: number;
      readonly total: number;
      readonly cell: CellType;
      readonly tokenizer: string;
      readonly seed: number;
      readonly hidden: number;
      readonly params: number;
      readonly vocabSize: number;
      readonly unseenTokens: number | null;
      readonly totalSteps: number | null;
      readonly outDir: string;
    }
  | Tagged<StepEvent>
  | Tagged<EvalEvent>
  | Tagged<CheckpointEvent>
  | Tagged<SampleEvent>
  | ({ readonly event: 'run-done' } & RunResult);

/** The data a tokenizer gives every run that uses it: one vocabulary, one split, one BPE count. */
interface Prepared {
  readonly vocab: Vocabulary;
  readonly split: Split;
  readonly unseen: UnseenTokens | null;
  /** Characters of the training split per id, to state throughput in characters. */
  readonly charsPerId: number;
  /** BPE tokens of the scored validation text (every id but the first). */
  readonly valBpeTokens: number;
  /** Code points of the scored validation text, the denominator of bits per character. */
  readonly valScoredChars: number;
}

/**
 * The hidden size whose parameter count lies closest to `target`: a linear
 * scan, since the count grows monotonically in hidden and is cheap to compute.
 */
export function matchHidden(base: ModelConfig, cell: CellType, target: number): { hidden: number; params: number } {
  let best = { hidden: 1, params: parameterCount({ ...base, cell, hidden: 1 }) };
  for (let hidden = 2; ; hidden++) {
    const params = parameterCount({ ...base, cell, hidden });
    if (Math.abs(params - target) < Math.abs(best.params - target)) best = { hidden, params };
    if (params > target) return best;
  }
}

/** Decides every run (vocabularies, splits, hidden sizes) before the first one trains. */
export function planCompare(corpus: Corpus, spec: CompareSpec): { plans: RunPlan[]; prepared: Map<string, Prepared> } {
  const prepared = new Map<string, Prepared>();
  for (const t of spec.tokenizers) {
    const name = tokenizerName(t);
    if (prepared.has(name)) continue;
    const { vocab, unseen } = buildVocabulary(t, corpus.text, spec.training.split);
    const ids = vocab.encode(corpus.text);
    const split = splitIds(ids, spec.training.split);
    const trainChars = [...vocab.decode(split.train)].length;
    const valScoredText = vocab.decode(split.val.subarray(1));
    prepared.set(name, {
      vocab,
      split,
      unseen,
      charsPerId: trainChars / split.train.length,
      valBpeTokens: valScoredText.length > 0 ? perBpeToken(0, valScoredText, spec.bpeEncoding).bpeTokens : 0,
      valScoredChars: [...valScoredText].length,
    });
  }
  const plans: RunPlan[] = [];
  // Seed outermost: after the first seed every cell has a number, and later seeds only tighten them.
  for (let seed = 1; seed <= spec.seeds; seed++) {
    for (const t of spec.tokenizers) {
      const name = tokenizerName(t);
      const p = prepared.get(name)!;
      const base: ModelConfig = { cell: 'lstm', vocabSize: p.vocab.size, embed: spec.embed, hidden: spec.hidden, layers: spec.layers, dropout: 0 };
      const reference = parameterCount(base);
      for (const cell of spec.cells) {
        const { hidden, params } = spec.match === 'params' ? matchHidden(base, cell, reference) : { hidden: spec.hidden, params: parameterCount({ ...base, cell }) };
        plans.push({
          id: `${cell}-${name.replace(/[^a-z0-9]+/gi, '-')}-s${seed}`,
          index: plans.length,
          cell,
          tokenizer: name,
          seed,
          model: { ...base, cell, hidden },
          params,
          paramsOff: Math.abs(params - reference) / reference,
          unseen: p.unseen,
        });
      }
    }
  }
  return { plans, prepared };
}

/**
 * Trains the runs of a comparison one after another (each uses every core),
 * all on the same split, batch order and budget, and reports each run's best
 * validation numbers. It only emits events; what shows them is the caller's.
 */
export class CompareRunner {
  private readonly listeners: ((e: CompareEvent) => void)[] = [];
  private current: Trainer | null = null;
  private stopRequested = false;

  constructor(
    private readonly o: { readonly compute: Compute; readonly corpus: Corpus; readonly spec: CompareSpec; readonly outDir: string },
  ) {}

  subscribe(listener: (e: CompareEvent) => void): void {
    this.listeners.push(listener);
  }

  /** Ends the run in progress (its latest is saved) and starts no other. */
  stop(): void {
    this.stopRequested = true;
    this.current?.stop();
  }

  get stopped(): boolean {
    return this.stopRequested;
  }

  private emit(e: CompareEvent): void {
    for (const l of this.listeners) l(e);
  }

  async run(): Promise<RunResult[]> {
    const { compute, corpus, spec, outDir } = this.o;
    const { plans, prepared } = planCompare(corpus, spec);
    this.emit({ event: 'compare-start', corpus: corpus.name, corpusBytes: corpus.bytes, backend: describeBackend(compute), match: spec.match, outDir, runs: plans });
    const results: RunResult[] = [];
    for (const plan of plans) {
      if (this.stopRequested) break;
      const r = await this.runOne(plan, prepared.get(plan.tokenizer)!, plans.length);
      results.push(r);
      this.emit({ event: 'run-done', ...r });
    }
    return results;
  }

  private async runOne(plan: RunPlan, p: Prepared, total: number): Promise<RunResult> {
    const { compute, corpus, spec } = this.o;
    const runDir = join(this.o.outDir, plan.id);
    const config: TrainConfig = { ...spec.training, seed: plan.seed, sampleEvery: 0 };
    await mkdir(runDir, { recursive: true });
    // Before the trainer: its run allocates the model, so the baseline holds none of it.
    const memory = new PeakRss();
    const trainer = new Trainer({ compute, corpus, vocab: p.vocab, split: p.split, model: plan.model, config, outDir: runDir });
    this.current = trainer;
    const curve: CurvePoint[] = [];
    const scored = p.split.val.length - 1;
    const started = performance.now();
    let trainMs = 0;
    let rateSum = 0;
    let rateCount = 0;
    let steps = 0;
    let best: EvalEvent | null = null;
    trainer.subscribe((e) => {
      switch (e.event) {
        case 'start':
          this.emit({
            event: 'run-start',
            run: plan.id,
            index: plan.index,
            total,
            cell: plan.cell,
            tokenizer: plan.tokenizer,
            seed: plan.seed,
            hidden: plan.model.hidden,
            params: e.params,
            vocabSize: p.vocab.size,
            unseenTokens: p.unseen?.tokens ?? null,
            totalSteps: e.totalSteps,
            outDir: runDir,
          });
          return;
        case 'step':
          memory.sample();
          trainMs = e.elapsedMs;
          steps = e.step;
          // The first steps compile kernels; their rate says nothing about the cell.
          if (e.step > 5) {
            rateSum += e.charsPerSec;
            rateCount += 1;
          }
          this.emit({ ...e, run: plan.id });
          return;
        case 'eval':
          memory.sample();
          curve.push({
            step: e.step,
            trainMs,
            wallMs: performance.now() - started,
            valLoss: e.valLoss,
            valBpc: e.valBpc,
            textBpc: p.valScoredChars > 0 ? (e.valLoss * scored) / p.valScoredChars / Math.LN2 : e.valBpc,
            valBitsPerByte: e.valBitsPerByte,
          });
          if (best === null || e.valLoss < best.valLoss) best = e;
          this.emit({ ...e, run: plan.id });
          return;
        case 'checkpoint':
        case 'sample':
          this.emit({ ...e, run: plan.id });
          return;
        default:
          return;
      }
    });
    let error: string | null = null;
    let bestPath: string | null = null;
    try {
      const done = await trainer.run();
      bestPath = done.best;
    } catch (e) {
      // A diverging cell is a result of the comparison, not a reason to lose the others.
      if (!(e instanceof TrainingError)) throw e;
      error = e.message;
    } finally {
      this.current = null;
    }
    const b = best as EvalEvent | null;
    return {
      run: plan.id,
      cell: plan.cell,
      tokenizer: plan.tokenizer,
      seed: plan.seed,
      hidden: plan.model.hidden,
      params: plan.params,
      vocabSize: p.vocab.size,
      unseenTokens: p.unseen?.tokens ?? null,
      steps,
      bestStep: b?.step ?? null,
      valLoss: b?.valLoss ?? null,
      valPpl: b?.valPpl ?? null,
      valBpc: b?.valBpc ?? null,
      valBitsPerByte: b?.valBitsPerByte ?? null,
      pplPerBpeToken: b && p.valBpeTokens > 0 ? Math.exp((b.valLoss * scored) / p.valBpeTokens) : null,
      charsPerSec: rateCount > 0 ? (rateSum / rateCount) * p.charsPerId : null,
      trainMs,
      wallMs: performance.now() - started,
      peakRssMb: memory.increaseMb(),
      workingSetMb: workingSet(plan.model, spec.training.batch, spec.training.seq).totalMb,
      best: error === null ? bestPath : null,
      stopped: this.stopRequested,
      error,
      curve,
    };
  }
}

/** A run with where its validation curve reached the comparison's target (null: not reached). */
export interface ScoredRun extends RunResult {
  readonly stepsToTarget: number | null;
  /** Training seconds (the --minutes clock) to the target. */
  readonly secondsToTarget: number | null;
}

/** What the report's numbers are computed from: the target in force and every run placed against it. */
export interface Summary {
  /** Null only when no run has a validation curve. */
  readonly targetBpc: number | null;
  readonly runs: ScoredRun[];
  readonly rows: ReportRow[];
}

/** Places every run against the target (`requested`, or the worst run's best) and averages the rows. */
export function summarize(results: readonly RunResult[], seeds: number, requested: number | null): Summary {
  const targetBpc = requested ?? defaultTarget(results.filter((r) => r.error === null).map((r) => r.curve));
  const runs = results.map((r) => {
    const reached = targetBpc === null ? null : reachTarget(r.curve, targetBpc);
    return { ...r, stepsToTarget: reached?.steps ?? null, secondsToTarget: reached?.seconds ?? null };
  });
  return { targetBpc, runs, rows: reportRows(runs, seeds) };
}

/** The metrics a report averages over seeds, in the order its table shows them. */
export const REPORT_METRICS = [
  'valLoss',
  'valPpl',
  'valBpc',
  'valBitsPerByte',
  'pplPerBpeToken',
  'charsPerSec',
  'peakRssMb',
  'workingSetMb',
  'stepsToTarget',
  'secondsToTarget',
  'trainMs',
  'wallMs',
] as const;
export type ReportMetric = (typeof REPORT_METRICS)[number];
/** A mean over seeds of these is only honest when every seed has one: a seed that never got there would drop out and flatter the row. */
const EVERY_SEED: ReadonlySet<ReportMetric> = new Set(['stepsToTarget', 'secondsToTarget']);
type Cap<S extends string> = S extends `${infer H}${infer T}` ? `${Uppercase<H>}${T}` : S;
export type MeanKey = `mean${Cap<ReportMetric>}`;
export type SdKey = `sd${Cap<ReportMetric>}`;

/** One line of the report: a cell and tokenizer over every seed that finished. */
export type ReportRow = {
  readonly cell: CellType;
  readonly tokenizer: string;
  readonly hidden: number;
  readonly params: number;
  /** Seeds whose numbers are in the means. */
  readonly seeds: number;
  /** Of those seeds, how many reached the target. */
  readonly reachedTarget: number;
  readonly runs: readonly string[];
  /** Lowest mean validation bits per byte: the scale every tokenisation shares. */
  readonly best: boolean;
} & { readonly [K in MeanKey]: number | null } & { readonly [K in SdKey]?: number | null };

const cap = <S extends ReportMetric>(s: S): Cap<S> => (s.charAt(0).toUpperCase() + s.slice(1)) as Cap<S>;

/**
 * Means and sample standard deviations (n − 1) over seeds. With one seed per
 * comparison there are no sd fields at all: a spread of one number is not zero,
 * it is unknown.
 */
export function reportRows(results: readonly ScoredRun[], seeds: number): ReportRow[] {
  const groups = new Map<string, ScoredRun[]>();
  for (const r of results) {
    const key = `${r.cell}\u0000${r.tokenizer}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const rows = [...groups.values()].map((runs) => {
    const ok = runs.filter((r) => r.error === null && r.valLoss !== null);
    const row: Record<string, unknown> = {
      cell: runs[0].cell,
      tokenizer: runs[0].tokenizer,
      hidden: runs[0].hidden,
      params: runs[0].params,
      seeds: ok.length,
      reachedTarget: ok.filter((r) => r.stepsToTarget !== null).length,
      runs: runs.map((r) => r.run),
      best: false,
    };
    for (const m of REPORT_METRICS) {
      const xs = ok.map((r) => r[m]).filter((x): x is number => x !== null);
      const complete = !EVERY_SEED.has(m) || xs.length === ok.length;
      row[`mean${cap(m)}`] = xs.length && complete ? mean(xs) : null;
      if (seeds > 1) row[`sd${cap(m)}`] = xs.length > 1 && complete ? sd(xs) : null;
    }
    return row as ReportRow;
  });
  let bestIndex = -1;
  rows.forEach((r, i) => {
    const x = r.meanValBitsPerByte;
    if (x !== null && (bestIndex < 0 || x < (rows[bestIndex].meanValBitsPerByte as number))) bestIndex = i;
  });
  return rows.map((r, i) => (i === bestIndex ? { ...r, best: true } : r));
}

function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

function sd(xs: readonly number[]): number {
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
}
