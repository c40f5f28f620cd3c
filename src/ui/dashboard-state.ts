import type { DoneEvent, EvalEvent, StartEvent, StepEvent, TrainEvent } from '../train/events.js';
import { count, fixed } from './format.js';
import { Store } from './store.js';

/** A sample streamed from the current weights by the front end's own sampler (not the trainer's hook). */
export type LiveSampleEvent =
  | { readonly event: 'live-sample-start'; readonly step: number; readonly seed: number; readonly onDemand: boolean }
  | { readonly event: 'live-sample-text'; readonly text: string }
  | { readonly event: 'live-sample-end' };

/** What the dashboard itself asked for, recorded so the screen says it until the trainer answers. */
export type ControlEvent =
  | { readonly event: 'paused'; readonly paused: boolean }
  | { readonly event: 'saving' }
  | { readonly event: 'stopping'; readonly reason: StopReason };

export type StopReason = 'quit' | 'interrupt';

export type DashboardEvent = TrainEvent | LiveSampleEvent | ControlEvent;

export interface LogLine {
  readonly id: number;
  readonly text: string;
  readonly tone: 'info' | 'good' | 'warn' | 'error';
}

export interface LiveSample {
  readonly step: number;
  readonly seed: number | null;
  readonly text: string;
  readonly streaming: boolean;
  readonly onDemand: boolean;
}

/**
 * A growing series. Appended in place (a long run has tens of thousands of
 * steps; copying them per step would be quadratic); views memoise on `length`.
 */
export interface LossSeries {
  readonly steps: number[];
  readonly losses: number[];
}

export interface DashboardState {
  readonly start: StartEvent | null;
  readonly last: StepEvent | null;
  readonly train: LossSeries;
  readonly val: LossSeries;
  readonly lastEval: EvalEvent | null;
  readonly best: EvalEvent | null;
  readonly sample: LiveSample | null;
  /** Lines that stay in the scrollback above the dashboard (`<Static>`). */
  readonly log: readonly LogLine[];
  readonly paused: boolean;
  readonly saving: boolean;
  readonly stopping: StopReason | null;
  readonly done: DoneEvent | null;
  readonly error: string | null;
}

export function initialDashboardState(): DashboardState {
  return {
    start: null,
    last: null,
    train: { steps: [], losses: [] },
    val: { steps: [], losses: [] },
    lastEval: null,
    best: null,
    sample: null,
    log: [],
    paused: false,
    saving: false,
    stopping: null,
    done: null,
    error: null,
  };
}

function logged(s: DashboardState, text: string, tone: LogLine['tone'] = 'info'): readonly LogLine[] {
  const id = s.log.length > 0 ? s.log[s.log.length - 1].id + 1 : 0;
  return [...s.log, { id, text, tone }];
}

export function reduceDashboard(s: DashboardState, e: DashboardEvent): DashboardState {
  switch (e.event) {
    case 'start': {
      const from = e.resumedFrom ? `, resumed from ${e.resumedFrom} at step ${count(e.step)}` : '';
      const log = logged(s, `run folder ${e.outDir}${from}`);
      return { ...s, start: e, log: e.smallCorpus ? logged({ ...s, log }, e.smallCorpus.note, 'warn') : log };
    }
    case 'step':
      s.train.steps.push(e.step);
      s.train.losses.push(e.loss);
      return { ...s, last: e };
    case 'eval': {
      s.val.steps.push(e.step);
      s.val.losses.push(e.valLoss);
      const text =
        `eval @ ${count(e.step)}: val loss ${fixed(e.valLoss, 4)} · ppl ${fixed(e.valPpl, 2)} · bpc ${fixed(e.valBpc, 3)}` + (e.best ? ' ◆ best' : '');
      return { ...s, lastEval: e, best: e.best ? e : s.best, log: logged(s, text, e.best ? 'good' : 'info') };
    }
    case 'sample':
      // The trainer's own hook (plain runs, scripted tests): a finished text, not a stream.
      return { ...s, sample: { step: e.step, seed: null, text: e.text, streaming: false, onDemand: false } };
    case 'checkpoint':
      return { ...s, saving: false, log: logged(s, `saved ${e.kind} @ ${count(e.step)} → ${e.path}`, 'good') };
    case 'done': {
      const how = e.stopped ? 'stopped' : 'finished';
      return { ...s, done: e, saving: false, log: logged(s, `${how} at step ${count(e.step)}; latest ${e.checkpoint}${e.best ? `, best ${e.best}` : ''}`, 'good') };
    }
    case 'error':
      return { ...s, error: e.message, log: logged(s, e.message, 'error') };
    case 'live-sample-start':
      return { ...s, sample: { step: e.step, seed: e.seed, text: '', streaming: true, onDemand: e.onDemand } };
    case 'live-sample-text':
      return s.sample ? { ...s, sample: { ...s.sample, text: s.sample.text + e.text } } : s;
    case 'live-sample-end':
      return s.sample ? { ...s, sample: { ...s.sample, streaming: false } } : s;
    case 'paused': {
      if (e.paused === s.paused) return s;
      const at = s.last ? ` at step ${count(s.last.step)}` : '';
      return { ...s, paused: e.paused, log: logged(s, e.paused ? `paused${at}` : `resumed${at}`, 'warn') };
    }
    case 'saving':
      return { ...s, saving: true };
    case 'stopping':
      return { ...s, stopping: e.reason };
  }
}

export type DashboardStore = Store<DashboardState, DashboardEvent>;

export function createDashboardStore(notifyEveryMs = 0): DashboardStore {
  return new Store(initialDashboardState(), reduceDashboard, notifyEveryMs);
}
