import type { Compute } from '../compute/backend.js';
import { deviceTraffic, reportedTraffic } from '../compute/device-traffic.js';
import type { CellType, ModelConfig } from '../model/config.js';
import { initParams } from '../model/params.js';
import { Rng } from '../model/rng.js';
import { zeroState } from '../model/state.js';
import { DEFAULT_OPTIMIZER, initialOptimizerState } from './optimizer.js';
import { createStepper } from './stepper.js';

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
  /** 'device' when parameters and state stay on the GPU between steps (webgpu), 'host' otherwise. */
  readonly residency: 'device' | 'host';
  /** Per timed step, host ↔ device: blocking readbacks, queue submissions, bytes uploaded (0 on webasm and cpu; null where not counted: headlessgl). */
  readonly readbacksPerStep: number | null;
  readonly submitsPerStep: number | null;
  readonly uploadBytesPerStep: number | null;
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
  const params = initParams(model, rng);
  const pipelineFlops = compute.runner.pipelineFlops;
  const stepper = createStepper(
    compute,
    model,
    { batch: c.batch, seq: c.seq, optimizer: DEFAULT_OPTIMIZER, clip: 5, lossLimit: Number.POSITIVE_INFINITY },
    { params, optimizer: initialOptimizerState(DEFAULT_OPTIMIZER, params.length), state: zeroState(model, c.batch) },
  );
  // a pipeline records its products once, when it is traced: that is one step's worth
  const tokens = (): Float32Array => Float32Array.from({ length: N }, () => Math.floor(rng.uniform() * BENCH_VOCAB));
  const weights = new Float32Array(N).fill(1 / N);
  const times: number[] = [];
  let stepFlops = 0;
  let before = deviceTraffic();
  for (let s = 0; s < warmup + steps; s++) {
    const window = { tokens: tokens(), targets: tokens(), weights };
    const flops = compute.runner.productFlops;
    if (s === warmup) before = deviceTraffic();
    const t0 = performance.now();
    await stepper.step(window, null, 2e-3);
    if (s >= warmup) times.push(performance.now() - t0);
    stepFlops = stepper.resident ? compute.runner.pipelineFlops - pipelineFlops : compute.runner.productFlops - flops;
  }
  const traffic = reportedTraffic(compute.backend, before, deviceTraffic(), steps);
  stepper.destroy();
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
    residency: stepper.resident ? 'device' : 'host',
    readbacksPerStep: traffic?.readbacks ?? null,
    submitsPerStep: traffic?.submits ?? null,
    uploadBytesPerStep: traffic === null ? null : Math.round(traffic.uploadBytes),
  };
}
