import type { Compute } from '../compute/backend.js';
import type { CellType, ModelConfig } from '../model/config.js';
import { initParams } from '../model/params.js';
import { Rng } from '../model/rng.js';
import { zeroState } from '../model/state.js';
import { DEFAULT_OPTIMIZER, initialOptimizerState } from './optimizer.js';
import { TrainStep } from './train-step.js';

export type BenchConfigName = 'small' | 'medium' | 'large';

/** DESIGN.md's benchmark configurations, shared with ../shared/bench/torch_bench.py. */
export const BENCH_CONFIGS: Record<BenchConfigName, { batch: number; seq: number; layers: number; hidden: number; embed: number }> = {
  small: { batch: 32, seq: 64, layers: 2, hidden: 128, embed: 64 },
  medium: { batch: 32, seq: 64, layers: 2, hidden: 256, embed: 64 },
  large: { batch: 50, seq: 50, layers: 3, hidden: 512, embed: 64 },
};

/** tinyshakespeare's vocabulary size, so shapes match the PyTorch reference run. */
export const BENCH_VOCAB = 65;

export interface BenchResult {
  readonly cell: CellType;
  readonly config: BenchConfigName;
  readonly backend: string;
  readonly params: number;
  /** Training characters per second: batch × seq over the median step time. */
  readonly charsPerSec: number;
  readonly stepMs: number;
  /** Achieved matrix-product GFLOP/s: the step's product FLOPs (2·M·N·K each) over the median step time. */
  readonly gflops: number;
  /** Peak resident set size of the process so far. */
  readonly rssMb: number;
}

/** The model of a benchmark configuration (tinyshakespeare's vocabulary, no dropout), as torch_bench.py builds it. */
export function benchModel(configName: BenchConfigName, cell: CellType): ModelConfig {
  const c = BENCH_CONFIGS[configName];
  return { cell, vocabSize: BENCH_VOCAB, embed: c.embed, hidden: c.hidden, layers: c.layers, dropout: 0 };
}

/**
 * Times full training steps (forward, backward, clip, Adam) on random tokens:
 * throughput does not depend on what the tokens say, only on the shapes. The
 * first `warmup` steps compile kernels and are not counted.
 */
export async function benchTraining(compute: Compute, configName: BenchConfigName, cell: CellType, steps: number, warmup: number): Promise<BenchResult> {
  const c = BENCH_CONFIGS[configName];
  const model = benchModel(configName, cell);
  const N = c.batch * c.seq;
  const rng = Rng.seeded(1);
  const step = new TrainStep(compute.runner, model, c.batch, c.seq, DEFAULT_OPTIMIZER);
  let params = initParams(model, rng);
  let optimizer = initialOptimizerState(DEFAULT_OPTIMIZER, params.length);
  let state = zeroState(model, c.batch);
  const tokens = (): Float32Array => Float32Array.from({ length: N }, () => Math.floor(rng.uniform() * BENCH_VOCAB));
  const weights = new Float32Array(N).fill(1 / N);
  const times: number[] = [];
  let stepFlops = 0;
  for (let s = 0; s < warmup + steps; s++) {
    const window = { tokens: tokens(), targets: tokens(), weights };
    const flops = compute.runner.productFlops;
    const t0 = performance.now();
    const r = await step.run(params, optimizer, window, state, null, 2e-3, 5);
    if (s >= warmup) times.push(performance.now() - t0);
    stepFlops = compute.runner.productFlops - flops;
    ({ params, optimizer, state } = r);
  }
  times.sort((a, b) => a - b);
  const stepMs = times[times.length >> 1];
  return {
    cell,
    config: configName,
    backend: compute.runner.executedBackends.join(' + '),
    params: params.length,
    charsPerSec: Math.round((N / stepMs) * 1000),
    stepMs: Math.round(stepMs * 10) / 10,
    gflops: Number((stepFlops / stepMs / 1e6).toPrecision(3)),
    rssMb: Math.round(process.resourceUsage().maxRSS / 1024),
  };
}
