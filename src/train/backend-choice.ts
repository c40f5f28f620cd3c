import { mkdir, readFile } from 'node:fs/promises';
import { cpus, homedir, hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../checkpoint/atomic.js';
import { selectBackend, type BackendRequest, type Compute } from '../compute/backend.js';
import type { ModelConfig } from '../model/config.js';
import { initParams } from '../model/params.js';
import { Rng } from '../model/rng.js';
import { zeroState } from '../model/state.js';
import { DEFAULT_OPTIMIZER, initialOptimizerState } from './optimizer.js';
import { createStepper } from './stepper.js';

/** A run's training shape, which is what the calibration measures. */
export interface TrainingShape {
  readonly model: ModelConfig;
  readonly batch: number;
  readonly seq: number;
}

/** What a calibration measured: the median step time of each candidate on this shape. */
export interface Calibration {
  readonly chosen: string;
  readonly stepMs: Readonly<Record<string, number>>;
  readonly seconds: number;
}

/** Time a candidate may take after its first (compiling) step; with two candidates the whole calibration stays near 3 s. */
const TIMED_MS = 1000;
const MAX_TIMED_STEPS = 3;

/**
 * `auto` for training: when a hardware GPU answers, the run's own step is
 * timed on it and on webasm (a few steps each), and the faster one runs. The
 * answer is cached per machine, model shape and charlm version, so later runs
 * start at once. Anything but `auto`, or no GPU, is selectBackend's answer.
 */
export async function selectTrainingBackend(request: BackendRequest, shape: TrainingShape, cacheFile: string = defaultCacheFile()): Promise<Compute> {
  const first = await selectBackend(request);
  if (request !== 'auto' || first.backend === 'webasm' || first.backend === 'cpu') return first;
  let webasm: Compute;
  try {
    webasm = await selectBackend('webasm');
  } catch {
    return first;
  }
  return chooseBetween([first, webasm], shape, cacheFile);
}

/** Times `candidates` on `shape` (or reads the cached answer), keeps the fastest and closes the rest. */
export async function chooseBetween(candidates: readonly Compute[], shape: TrainingShape, cacheFile: string): Promise<Compute> {
  const key = cacheKey(candidates, shape);
  const cache = await readCache(cacheFile);
  let calibration = cache[key];
  const cached = calibration !== undefined;
  if (!calibration) {
    calibration = await calibrate(candidates, shape);
    cache[key] = calibration;
    await writeCache(cacheFile, cache);
  }
  const chosen = candidates.find((c) => c.backend === calibration.chosen) ?? candidates[0];
  for (const c of candidates) if (c !== chosen) c.runner.destroy();
  return { ...chosen, calibration: describeCalibration(calibration, chosen.backend, cached) };
}

async function calibrate(candidates: readonly Compute[], shape: TrainingShape): Promise<Calibration> {
  const started = performance.now();
  const stepMs: Record<string, number> = {};
  for (const c of candidates) stepMs[c.backend] = await timeSteps(c, shape);
  const chosen = Object.entries(stepMs).sort((a, b) => a[1] - b[1])[0][0];
  return { chosen, stepMs, seconds: Math.round((performance.now() - started) / 100) / 10 };
}

/** Median step time after one untimed step (kernel compilation, first upload). */
async function timeSteps(compute: Compute, { model, batch, seq }: TrainingShape): Promise<number> {
  const rng = Rng.seeded(1);
  const params = initParams(model, rng);
  const stepper = createStepper(
    compute,
    model,
    { batch, seq, optimizer: DEFAULT_OPTIMIZER, clip: 5, lossLimit: Number.POSITIVE_INFINITY },
    { params, optimizer: initialOptimizerState(DEFAULT_OPTIMIZER, params.length), state: zeroState(model, batch) },
  );
  const N = batch * seq;
  const ids = (): Float32Array => Float32Array.from({ length: N }, () => Math.floor(rng.uniform() * model.vocabSize));
  const window = { tokens: ids(), targets: ids(), weights: new Float32Array(N).fill(1 / N) };
  try {
    await stepper.step(window, null, 1e-3);
    const times: number[] = [];
    const timedFrom = performance.now();
    while (times.length < MAX_TIMED_STEPS && (times.length === 0 || performance.now() - timedFrom < TIMED_MS)) {
      const t0 = performance.now();
      await stepper.step(window, null, 1e-3);
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    return Math.round(times[times.length >> 1] * 10) / 10;
  } finally {
    stepper.destroy();
  }
}

function describeCalibration(c: Calibration, chosen: string, cached: boolean): string {
  const others = Object.entries(c.stepMs).filter(([name]) => name !== chosen);
  const ratio = others.map(([name, ms]) => {
    const x = ms / c.stepMs[chosen];
    return `${x >= 10 ? x.toFixed(0) : x.toFixed(1)}× ${name}`;
  });
  return `auto chose ${chosen}: ${ratio.join(', ')} on this model's step (${Object.entries(c.stepMs)
    .map(([name, ms]) => `${name} ${ms} ms`)
    .join(', ')}); ${cached ? `calibrated earlier in ${c.seconds} s, cached` : `calibrated ${c.seconds} s`}`;
}

/** The user's cache folder (XDG on Linux, ~/.cache elsewhere too): one small JSON file. */
export function defaultCacheFile(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'charlm', 'backend-calibration.json');
}

function cacheKey(candidates: readonly Compute[], { model, batch, seq }: TrainingShape): string {
  const machine = `${hostname()}|${cpus()[0]?.model ?? 'cpu'}|${candidates.map((c) => `${c.backend}:${c.detail}`).join('|')}`;
  const shape = `${model.cell}:${model.vocabSize}:${model.embed}:${model.hidden}:${model.layers}:${batch}x${seq}`;
  return `${CHARLM_VERSION}|${machine}|${shape}`;
}

async function readCache(file: string): Promise<Record<string, Calibration>> {
  try {
    const parsed: unknown = JSON.parse(await readFile(file, 'utf8'));
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, Calibration>) : {};
  } catch {
    // missing or unreadable: calibrate again and rewrite it
    return {};
  }
}

async function writeCache(file: string, cache: Record<string, Calibration>): Promise<void> {
  try {
    await mkdir(dirname(file), { recursive: true });
    await writeFileAtomic(file, new TextEncoder().encode(`${JSON.stringify(cache, null, 1)}\n`));
  } catch {
    // a read-only home only costs the next run its calibration
  }
}

const CHARLM_VERSION = await readFile(new URL('../../package.json', import.meta.url), 'utf8').then(
  (text) => (JSON.parse(text) as { version: string }).version,
  () => 'unknown',
);
