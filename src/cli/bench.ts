import type { Argv } from 'yargs';
import { BACKEND_REQUESTS, type BackendRequest } from '../compute/backend.js';
import { selectTrainingBackend } from '../train/backend-choice.js';
import { CELL_TYPES, type CellType } from '../model/config.js';
import { benchSampling } from '../sample/bench.js';
import { BENCH_CONFIGS, benchModel, benchTraining, type BenchConfigName } from '../train/bench.js';

export function benchCommand(y: Argv): Argv {
  return y.command(
    'bench',
    'Training (and with --sample, sampling) throughput on a standard configuration: one JSON line with --json',
    (a) =>
      a
        .option('config', { choices: Object.keys(BENCH_CONFIGS) as BenchConfigName[], default: 'medium' as BenchConfigName, describe: 'DESIGN.md benchmark configuration' })
        .option('cell', { choices: CELL_TYPES, default: 'lstm' as CellType })
        .option('backend', { choices: BACKEND_REQUESTS, default: 'auto' as BackendRequest })
        .option('steps', { type: 'number', default: 5, describe: 'timed steps (median reported)' })
        .option('warmup', { type: 'number', default: 1, describe: 'untimed steps first (kernel compilation)' })
        .option('sample', { type: 'boolean', default: false, describe: 'also time batch-1 sampling (sampleCharsPerSec)' })
        .option('sample-chars', { type: 'number', default: 2000, describe: 'symbols generated for the sampling figure' })
        .option('json', { type: 'boolean', default: false, describe: 'one JSON object on stdout' })
        .check((argv) => {
          if (!Number.isInteger(argv.steps) || argv.steps < 1) throw new Error('--steps must be a whole number of at least 1.');
          if (!Number.isInteger(argv.warmup) || argv.warmup < 0) throw new Error('--warmup must be a whole number of at least 0.');
          if (!Number.isInteger(argv['sample-chars']) || argv['sample-chars'] < 1) throw new Error('--sample-chars must be a whole number of at least 1.');
          return true;
        }),
    async (argv) => {
      const c = BENCH_CONFIGS[argv.config];
      const compute = await selectTrainingBackend(argv.backend, { model: benchModel(argv.config, argv.cell), batch: c.batch, seq: c.seq });
      const trained = await benchTraining(compute, argv.config, argv.cell, argv.steps, argv.warmup);
      const sampled = argv.sample ? await benchSampling(compute, benchModel(argv.config, argv.cell), argv['sample-chars'], 50) : null;
      compute.runner.destroy();
      // Peak RSS again: sampling ran after the training figure was taken.
      const r = {
        ...trained,
        ...sampled,
        rssMb: Math.round(process.resourceUsage().maxRSS / 1024),
        device: compute.detail,
        ...(compute.calibration ? { auto: compute.calibration } : {}),
      };
      if (argv.json) {
        process.stdout.write(`${JSON.stringify(r)}\n`);
      } else {
        const sampling = sampled ? `; sampling ${sampled.sampleCharsPerSec} chars/s at batch 1` : '';
        const traffic =
          r.readbacksPerStep === null
            ? ''
            : `; ${r.residency} resident, per step ${r.readbacksPerStep} readbacks, ${r.submitsPerStep} submits, ${((r.uploadBytesPerStep ?? 0) / 1024).toFixed(1)} KB uploaded`;
        process.stdout.write(
          `${r.config} ${r.cell} on ${r.backend}: ${r.charsPerSec} chars/s (median step ${r.stepMs} ms, ${r.gflops} GFLOP/s in products, ${r.params} parameters, peak RSS ${r.rssMb} MB${traffic})${sampling}\n`,
        );
      }
    },
  );
}
