import type { Compute } from '../compute/backend.js';
import { deviceTraffic, reportedTraffic } from '../compute/device-traffic.js';
import type { ModelConfig } from '../model/config.js';
import { initParams } from '../model/params.js';
import { Rng } from '../model/rng.js';
import { Sampler } from './sampler.js';

export interface SampleBenchResult {
  /** Characters generated per second at batch 1, after warm-up. */
  readonly sampleCharsPerSec: number;
  /** Blocking device readbacks per generated symbol (0 on webasm and cpu; null where not counted: headlessgl). */
  readonly readbacksPerSymbol: number | null;
}

/**
 * Times batch-1 generation the way ../shared/bench/torch_bench.py --sample does:
 * `warmup` symbols first, then `chars` symbols drawn at temperature 0.8, each
 * fed back as the next input. What the weights say does not change the cost.
 */
export async function benchSampling(compute: Compute, model: ModelConfig, chars: number, warmup: number): Promise<SampleBenchResult> {
  const rng = Rng.seeded(1);
  const params = initParams(model, rng);
  const sampler = new Sampler(compute.runner, model);
  const options = () => ({ temperature: 0.8, topK: 0, topP: 1 });
  const prime = Int32Array.of(0);
  for await (const _ of sampler.generate(params, prime, warmup, options, rng));
  const before = deviceTraffic();
  const t0 = performance.now();
  let n = 0;
  for await (const _ of sampler.generate(params, prime, chars, options, rng)) n++;
  const seconds = (performance.now() - t0) / 1000;
  // the prime and every symbol but the last are fed through the network
  const traffic = reportedTraffic(compute.backend, before, deviceTraffic(), n);
  return { sampleCharsPerSec: Math.round(n / seconds), readbacksPerSymbol: traffic === null ? null : Number(traffic.readbacks.toFixed(3)) };
}
