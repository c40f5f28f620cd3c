import type { KernelRunner } from '../compute/kernels.js';
import type { SamplingOptions } from '../sample/strategy.js';

/** Symbols of one sample, drawn with `options()` read before each one. */
export type SymbolStream = (seed: number, options: () => SamplingOptions) => AsyncIterable<string>;

export interface LiveSampleCallbacks {
  start(seed: number): void;
  text(symbol: string): void;
  /** `completed` is false when the sample was cancelled or replaced part-way. */
  end(completed: boolean): void;
}

/**
 * How long generation may hold the event loop. Yielding after every symbol
 * would tie the sampler to the trainer's pace (one symbol per training step,
 * as the trainer yields once a step); never yielding would freeze keys and
 * frames until the sample ends.
 */
const YIELD_EVERY_MS = 15;

/**
 * One streamed sample at a time for an interactive front end: starting a new
 * one ends the one in progress, the options can change between any two
 * symbols, and generation can be paused. It yields to the event loop every
 * few milliseconds, so keys and frames get in even on backends whose kernels
 * finish without one.
 */
export class LiveSampler {
  private options: SamplingOptions;
  /** Bumped by every start and cancel; a loop whose number is stale stops at its next symbol. */
  private generation = 0;
  private running: Promise<void> | null = null;
  private pausedFlag = false;
  private wake: (() => void) | null = null;

  constructor(
    private readonly stream: SymbolStream,
    initial: SamplingOptions,
  ) {
    this.options = initial;
  }

  get current(): SamplingOptions {
    return this.options;
  }

  /** Takes effect at the next symbol drawn. */
  set(options: Partial<SamplingOptions>): void {
    this.options = { ...this.options, ...options };
  }

  get busy(): boolean {
    return this.running !== null;
  }

  get paused(): boolean {
    return this.pausedFlag;
  }

  /** Ends the sample in progress (if any), then streams a new one; resolves when it ends. */
  start(seed: number, on: LiveSampleCallbacks): Promise<void> {
    const id = ++this.generation;
    this.pausedFlag = false;
    this.wakeUp();
    // Never two loops at once: the new one waits for the old one to notice it is stale.
    const run = (this.running ?? Promise.resolve()).then(() => this.loop(id, seed, on));
    this.running = run;
    void run.then(
      () => this.settle(run),
      () => this.settle(run),
    );
    return run;
  }

  /** Ends the sample in progress; resolves once its generator has returned. */
  cancel(): Promise<void> {
    this.generation++;
    this.wakeUp();
    return this.running ?? Promise.resolve();
  }

  pause(): void {
    this.pausedFlag = true;
  }

  resume(): void {
    this.pausedFlag = false;
    this.wakeUp();
  }

  private settle(run: Promise<void>): void {
    if (this.running === run) this.running = null;
  }

  private wakeUp(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  private async loop(id: number, seed: number, on: LiveSampleCallbacks): Promise<void> {
    if (id !== this.generation) return;
    on.start(seed);
    let completed = true;
    let lastYield = performance.now();
    for await (const symbol of this.stream(seed, () => this.options)) {
      if (id !== this.generation) {
        completed = false;
        break;
      }
      on.text(symbol);
      if (performance.now() - lastYield >= YIELD_EVERY_MS) {
        await new Promise<void>((r) => setImmediate(r));
        lastYield = performance.now();
      }
      while (this.pausedFlag && id === this.generation) await new Promise<void>((r) => (this.wake = r));
      if (id !== this.generation) {
        completed = false;
        break;
      }
    }
    on.end(completed);
  }
}

/**
 * The same runner, but with at most one kernel call in flight: the dashboard's
 * sampler runs between the trainer's awaits, and the two must never have
 * asynchronous calls (webgpu, threaded webasm) outstanding on one kernel
 * instance at once (a batch-1 trainer and the batch-1 sampler share kernel
 * shapes, hence instances). Queuing whole calls makes any interleaving of the
 * two equivalent to some sequential order of independent calls.
 */
export function oneCallAtATime(runner: KernelRunner): KernelRunner {
  let tail: Promise<unknown> = Promise.resolve();
  const run: KernelRunner['run'] = (src, ...args) => {
    const result = tail.then(() => runner.run(src, ...args));
    tail = result.catch(() => undefined);
    return result;
  };
  return new Proxy(runner, {
    get(target, key) {
      if (key === 'run') return run;
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
