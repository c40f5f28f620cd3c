import { HistoryWriter } from '../checkpoint/history.js';
import { CheckpointFiles, DEFAULT_RETENTION, type RetentionPolicy } from '../checkpoint/retention.js';
import { saveCheckpoint, type CheckpointContents } from '../checkpoint/run-checkpoint.js';
import { describeBackend, type Compute } from '../compute/backend.js';
import { BatchStream } from '../data/batches.js';
import type { Corpus } from '../data/corpus.js';
import { keepMask } from '../data/documents.js';
import type { Split } from '../data/split.js';
import type { Vocabulary } from '../data/vocabulary.js';
import type { ModelConfig } from '../model/config.js';
import { Network, type DropoutMasks } from '../model/network.js';
import { initParams } from '../model/params.js';
import { Rng } from '../model/rng.js';
import { zeroState, type RecurrentState } from '../model/state.js';
import { plannedSteps, type TrainConfig } from './config.js';
import { evaluate, type Evaluation } from './evaluate.js';
import type { DoneEvent, EvalEvent, StepEvent, TrainEvent } from './events.js';
import { evalStreams, type SmallCorpus } from './guardrails.js';
import { initialOptimizerState, type OptimizerState } from './optimizer.js';
import type { Progress } from './progress.js';
import { learningRate } from './schedule.js';
import { createStepper, DeviceLostError, lossLimit, type TrainingContents } from './stepper.js';

export class TrainingError extends Error {
  override readonly name = 'TrainingError';
}

/** Writes a sample from the current weights; injected by the caller (the sampler lives in another layer). */
export type SampleHook = (params: Float32Array, step: number) => Promise<{ text: string; temperature: number }>;

export interface TrainerOptions {
  readonly compute: Compute;
  readonly corpus: Corpus;
  readonly vocab: Vocabulary;
  readonly split: Split;
  readonly model: ModelConfig;
  readonly config: TrainConfig;
  readonly outDir: string;
  /** A checkpoint to continue from (already validated against this corpus and config). */
  readonly resume?: { readonly path: string; readonly contents: CheckpointContents; readonly progress: Progress };
  readonly sample?: SampleHook;
  /** Which older checkpoints the run folder keeps besides latest and best (default: none). */
  readonly retention?: RetentionPolicy;
  /** What the small-corpus guardrail chose instead of the requested batch × seq, told in the start event. */
  readonly smallCorpus?: SmallCorpus;
}

/** Smoothing of the displayed throughput: the last ~10 steps dominate. */
const RATE_SMOOTHING = 0.1;

/**
 * The training loop, top to bottom: take the next window of every stream,
 * step, report; evaluate on the whole validation split every `evalEvery` steps
 * and keep `latest` and `best` checkpoints. It only emits events.
 */
export class Trainer {
  private readonly listeners: ((e: TrainEvent) => void)[] = [];
  private stopRequested = false;
  private saveRequested = false;
  private pausedFlag = false;
  /** Wakes the loop while it waits in pause (resume, save, stop). */
  private wake: (() => void) | null = null;
  private current: Float32Array | null = null;

  constructor(private readonly o: TrainerOptions) {}

  subscribe(listener: (e: TrainEvent) => void): void {
    this.listeners.push(listener);
  }

  /** Finish the step in progress, save `latest`, and end the run (Ctrl-C, q). */
  stop(): void {
    this.stopRequested = true;
    this.wake?.();
  }

  /** Hold before the next step until `resume()`; no step events while paused. */
  pause(): void {
    this.pausedFlag = true;
  }

  resume(): void {
    this.pausedFlag = false;
    this.wake?.();
  }

  get paused(): boolean {
    return this.pausedFlag;
  }

  /** Save `latest` after the step in progress (or at once while paused). */
  saveNow(): void {
    this.saveRequested = true;
    this.wake?.();
  }

  /** The weights after the last completed step (for samples on demand); null before the run starts. */
  get params(): Float32Array | null {
    return this.current;
  }

  private emit(e: TrainEvent): void {
    for (const l of this.listeners) l(e);
  }

  async run(): Promise<DoneEvent> {
    const { compute, corpus, vocab, split, model, config, outDir, resume } = this.o;
    const stream = new BatchStream(split.train, config.batch, config.seq);
    const total = plannedSteps(config.budget, stream.windowsPerEpoch);

    let params: Float32Array;
    let optimizer: OptimizerState;
    let state: RecurrentState;
    let rng: Rng;
    let progress: Progress;
    if (resume) {
      ({ params, state } = resume.contents);
      optimizer = { step: resume.contents.optimizer.step, first: resume.contents.optimizer.first, second: resume.contents.optimizer.second };
      progress = resume.progress;
      rng = Rng.fromState(progress.rng);
      stream.seek(progress.position);
    } else {
      rng = Rng.seeded(config.seed);
      params = initParams(model, rng, config.forgetBias);
      optimizer = initialOptimizerState(config.optimizer, params.length);
      state = zeroState(model, config.batch);
      progress = { step: 0, position: stream.position, rng: rng.state, elapsedMs: 0, best: null, history: [] };
    }

    const stepper = createStepper(
      compute,
      model,
      { batch: config.batch, seq: config.seq, optimizer: config.optimizer, clip: config.clip, lossLimit: lossLimit(model) },
      { params, optimizer, state },
    );
    // What was last read back, with the progress it belongs to: on webgpu the
    // device holds the run between reads, and a lost device loses what came after.
    let synced: { contents: TrainingContents; progress: Progress } = {
      contents: { params, optimizer, state },
      progress: { ...progress, position: stream.position, rng: rng.state },
    };
    const sync = async (): Promise<TrainingContents> => {
      const contents = await stepper.contents();
      synced = { contents, progress: { ...progress, position: stream.position, rng: rng.state } };
      this.current = contents.params;
      return contents;
    };
    const files = await CheckpointFiles.open(outDir, this.o.retention ?? DEFAULT_RETENTION);
    const { latestPath, bestPath } = files;
    const history = await HistoryWriter.open(outDir, progress.step);
    // A validation split shorter than one window is scored along fewer streams (see evalStreams), the same shape `charlm eval` uses.
    const valStreams = evalStreams(config.batch, config.seq, Math.max(0, split.val.length - 1));
    const valNetwork = valStreams === config.batch ? stepper.network : new Network(compute.runner, model, valStreams, config.seq);
    const save = async (kind: 'latest' | 'best', run: TrainingContents, at: Progress = { ...progress, position: stream.position, rng: rng.state }): Promise<void> => {
      const contents: CheckpointContents = {
        model,
        params: run.params,
        optimizer: { kind: config.optimizer.kind, ...run.optimizer },
        state: run.state,
        batch: config.batch,
        vocab: vocab.toJSON(),
        training: config,
        progress: at,
        corpus: { name: corpus.name, source: corpus.source, bytes: corpus.bytes },
      };
      const path = await files.save(kind, at.step, (to) => saveCheckpoint(to, contents), at.history);
      this.emit({ event: 'checkpoint', step: at.step, kind, path });
    };
    let lastEval: Evaluation | null = null;
    const evalAndSave = async (): Promise<void> => {
      const run = await sync();
      lastEval = await evaluate(valNetwork, run.params, split.val, (id) => vocab.byteLength(id), vocab.endOfDocument);
      const best = progress.best === null || lastEval.loss < progress.best.valLoss;
      if (best) progress = { ...progress, best: { step: progress.step, valLoss: lastEval.loss } };
      const e: EvalEvent = {
        event: 'eval',
        step: progress.step,
        valLoss: lastEval.loss,
        valPpl: lastEval.ppl,
        valBpc: lastEval.bpc,
        valBitsPerByte: lastEval.bitsPerByte,
        best,
      };
      progress = { ...progress, history: [...progress.history, { step: progress.step, valLoss: lastEval.loss, valBpc: lastEval.bpc }] };
      this.emit(e);
      await history.append(e);
      await save('latest', run);
      if (best) await save('best', run);
    };

    this.emit({
      event: 'start',
      corpus: corpus.name,
      corpusBytes: corpus.bytes,
      vocabSize: vocab.size,
      model,
      params: params.length,
      backend: describeBackend(compute),
      seed: config.seed,
      batch: config.batch,
      seq: config.seq,
      step: progress.step,
      totalSteps: total,
      windowsPerEpoch: stream.windowsPerEpoch,
      outDir,
      resumedFrom: resume?.path ?? null,
      ...(this.o.smallCorpus ? { smallCorpus: this.o.smallCorpus } : {}),
    });

    // The training clock: only batch preparation and the step itself advance it, as in the PyTorch
    // reference, so evaluations, samples, saves and pauses never spend a --minutes budget.
    let trainedMs = progress.elapsedMs;
    const N = config.batch * config.seq;
    const weights = new Float32Array(N).fill(1 / N);
    let rate = 0;
    let nonFinite = 0;
    const budgetLeft = (): boolean =>
      (total === null || progress.step < total) && (config.budget.minutes === undefined || trainedMs < config.budget.minutes * 60_000);

    this.current = params;
    while (budgetLeft() && !this.stopRequested) {
      if (this.saveRequested) {
        this.saveRequested = false;
        await save('latest', await sync());
      }
      if (this.pausedFlag) {
        await new Promise<void>((r) => (this.wake = r));
        this.wake = null;
        continue;
      }
      // Sync backends finish every kernel call without a macrotask; let signals, keys and timers in once per step.
      await new Promise<void>((r) => setImmediate(r));
      const t0 = performance.now();
      const batch = stream.next();
      if (batch.resetState) stepper.setState(zeroState(model, config.batch));
      const keep = vocab.endOfDocument === null ? undefined : keepMask(batch.inputs, vocab.endOfDocument);
      const window = { tokens: Float32Array.from(batch.inputs), targets: Float32Array.from(batch.targets), weights, keep };
      const masks = dropoutMasks(model, N, rng);
      const lr = learningRate(config.schedule, config.lr, progress.step, total ?? Number.MAX_SAFE_INTEGER);
      const r = await stepper.step(window, masks, lr).catch(async (e: unknown) => {
        if (!(e instanceof DeviceLostError)) throw e;
        // Nothing after the last read-back survives; save that, as it was.
        await save('latest', synced.contents, synced.progress);
        throw new TrainingError(
          `The GPU device was lost at step ${progress.step + 1} (${e.message}); ${files.latestPath} holds step ${synced.progress.step}, the last one read back from the device.`,
        );
      });
      trainedMs += performance.now() - t0;
      if (r.rejected !== null) {
        nonFinite += 1;
        if (nonFinite >= config.maxNonFinite) {
          const times = nonFinite === 1 ? 'once (the step was not applied)' : `for ${nonFinite} steps in a row (none was applied)`;
          throw new TrainingError(
            `Training diverged at step ${progress.step + 1}: ${r.rejected} ${times}; try ${resume ? 'a new run with ' : ''}a lower --lr than ${config.lr}.`,
          );
        }
        continue;
      }
      nonFinite = 0;
      progress = { ...progress, step: progress.step + 1, elapsedMs: trainedMs };
      const sampleDue = config.sampleEvery > 0 && progress.step % config.sampleEvery === 0;
      // A host run's contents are at hand every step; a resident run reads them back only when a sample needs them.
      if (!stepper.resident || sampleDue) await sync();
      const stepRate = N / ((performance.now() - t0) / 1000);
      rate = rate === 0 ? stepRate : rate + RATE_SMOOTHING * (stepRate - rate);
      const stepEvent: StepEvent = { event: 'step', step: progress.step, epoch: batch.epoch, loss: r.loss, lr, gradNorm: r.gradNorm, charsPerSec: rate, elapsedMs: progress.elapsedMs };
      this.emit(stepEvent);
      await history.append(stepEvent);

      if (sampleDue && this.o.sample) {
        const s = await this.o.sample(synced.contents.params, progress.step);
        this.emit({ event: 'sample', step: progress.step, ...s });
      }
      if (progress.step % config.evalEvery === 0 && split.val.length > 1) await evalAndSave();
    }

    const evaluatedNow = progress.history.length > 0 && progress.history[progress.history.length - 1].step === progress.step;
    if (this.stopRequested || split.val.length < 2) await save('latest', await sync());
    else if (!evaluatedNow) await evalAndSave();
    const final = lastEval as Evaluation | null;
    const done: DoneEvent = {
      event: 'done',
      step: progress.step,
      stopped: this.stopRequested,
      valLoss: final?.loss ?? null,
      valPpl: final?.ppl ?? null,
      valBpc: final?.bpc ?? null,
      valBitsPerByte: final?.bitsPerByte ?? null,
      checkpoint: latestPath,
      best: progress.best ? bestPath : null,
      backend: describeBackend(compute),
    };
    await history.close();
    this.emit(done);
    return done;
  }
}

/** Inverted-dropout masks for this step, drawn from the run's RNG so a resumed run draws the same ones. */
function dropoutMasks(model: ModelConfig, N: number, rng: Rng): DropoutMasks | null {
  if (model.dropout <= 0 || model.layers < 2) return null;
  const keep = 1 - model.dropout;
  const size = N * model.hidden;
  return Array.from({ length: model.layers - 1 }, () => {
    const m = new Float32Array(size);
    for (let i = 0; i < size; i++) m[i] = rng.uniform() < keep ? 1 / keep : 0;
    return m;
  });
}
