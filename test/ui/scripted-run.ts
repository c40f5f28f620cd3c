import type { StartEvent } from '../../src/train/events.js';
import type { DashboardControls } from '../../src/ui/dashboard.js';
import type { DashboardStore } from '../../src/ui/dashboard-state.js';

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;?]*[A-Za-z]/g;

/** The frame without colour codes. */
export const plain = (frame: string | undefined): string => (frame ?? '').replace(ANSI, '');

/**
 * The live part of a frame: ink-testing-library writes `<Static>` lines and the
 * live frame together; the live frame starts at the header.
 */
export function live(frame: string | undefined): string[] {
  const lines = plain(frame).split('\n');
  const at = lines.findIndex((l) => l.startsWith('charlm'));
  return at < 0 ? lines : lines.slice(at);
}

export const START: StartEvent = {
  event: 'start',
  corpus: 'moby-dick',
  corpusBytes: 1_234_567,
  vocabSize: 79,
  model: { cell: 'lstm', vocabSize: 79, embed: 64, hidden: 128, layers: 2, dropout: 0 },
  params: 237_903,
  backend: 'webasm + wasm-gemm (2 threads)',
  seed: 1,
  batch: 32,
  seq: 64,
  step: 0,
  totalSteps: 5000,
  windowsPerEpoch: 500,
  outDir: '/runs/moby',
  resumedFrom: null,
};

/**
 * A stand-in for the Trainer behind the dashboard's controls: it emits what a
 * trainer would (steps unless paused, a checkpoint on save, checkpoint + done
 * on stop) and records what it was asked.
 */
export class ScriptedRun {
  step = 0;
  paused = false;
  stopped = false;
  readonly calls: string[] = [];
  readonly sampling: { temperature: number; topK: number }[] = [];

  constructor(private readonly store: DashboardStore) {}

  start(): this {
    this.store.dispatch(START);
    return this;
  }

  /** `n` training steps, as the trainer would emit them; none while paused or after stop. */
  steps(n: number): void {
    for (let i = 0; i < n; i++) {
      if (this.paused || this.stopped) return;
      this.step += 1;
      const s = this.step;
      this.store.dispatch({ event: 'step', step: s, epoch: 0, loss: 4.3 * Math.exp(-s / 200) + 1.4 + 0.05 * Math.sin(s), lr: 2e-3, gradNorm: 0.8, charsPerSec: 12_288, elapsedMs: s * 170 });
      if (s % 250 === 0) this.eval(4.3 * Math.exp(-s / 200) + 1.5, true);
    }
  }

  eval(valLoss: number, best: boolean): void {
    this.store.dispatch({ event: 'eval', step: this.step, valLoss, valPpl: Math.exp(valLoss), valBpc: valLoss / Math.LN2, valBitsPerByte: valLoss / Math.LN2, best });
  }

  controls(overrides: Partial<DashboardControls> = {}): DashboardControls {
    return {
      setSampling: (s) => {
        this.calls.push('setSampling');
        this.sampling.push(s);
      },
      resample: () => this.calls.push('resample'),
      pause: () => {
        this.calls.push('pause');
        this.paused = true;
      },
      resume: () => {
        this.calls.push('resume');
        this.paused = false;
      },
      save: () => {
        this.calls.push('save');
        // The trainer saves after the step in progress: later, not inside the key press.
        setTimeout(() => this.store.dispatch({ event: 'checkpoint', step: this.step, kind: 'latest', path: '/runs/moby/latest.safetensors' }), 5);
      },
      stop: (reason) => {
        this.calls.push(`stop:${reason}`);
        this.stopped = true;
        setTimeout(() => {
          this.calls.push('saved');
          this.store.dispatch({ event: 'checkpoint', step: this.step, kind: 'latest', path: '/runs/moby/latest.safetensors' });
          this.store.dispatch({
            event: 'done',
            step: this.step,
            stopped: true,
            valLoss: null,
            valPpl: null,
            valBpc: null,
            valBitsPerByte: null,
            checkpoint: '/runs/moby/latest.safetensors',
            best: null,
            backend: START.backend,
          });
        }, 20);
      },
      ...overrides,
    };
  }
}
