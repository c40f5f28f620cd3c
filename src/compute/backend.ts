import { execFile } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { GPU } from 'gpu.js';
import { gpujsPatched } from './gpujs-patch.js';
import { KernelRunner } from './kernels.js';
import { probeCpu, probeHeadlessGL, probeWebAsm, probeWebGPU, type BackendName, type BackendProbe } from './probe.js';
import { WasmGemm } from './wasm-gemm/gemm.js';

export type BackendRequest = 'auto' | BackendName;

export const BACKEND_REQUESTS: readonly BackendRequest[] = ['auto', 'webgpu', 'headlessgl', 'webasm', 'cpu'];

/** A selected backend, ready to run kernels. */
export interface Compute {
  readonly runner: KernelRunner;
  readonly backend: BackendName;
  /** Renderer / adapter / thread description of what runs. */
  readonly detail: string;
  /** Every probe made while choosing, so the report can say why others were passed over. */
  readonly probes: readonly BackendProbe[];
  /** What `auto` measured when it weighed a GPU against webasm on the run's own step (src/train/backend-choice.ts). */
  readonly calibration?: string;
}

export class BackendError extends Error {
  override readonly name = 'BackendError';
}

/**
 * webasm kernels with at least this many output cells run threaded (gpu.js's async
 * contract); smaller ones stay synchronous, where the pool round trip costs more
 * than the work. Measured with `charlm bench --config small --backend webasm`
 * (2 cores, loaded): a bound of 16384 put the per-timestep gate kernels (32×512)
 * on the pool, ~1 ms a call, 780–800 ms a step; 131072 keeps them synchronous,
 * 394–472 ms a step. Medium is the same either way at 131072 or all-synchronous.
 */
const THREADED_FROM_CELLS = 131072;

async function probe(name: BackendName): Promise<BackendProbe> {
  switch (name) {
    case 'webgpu':
      return probeWebGPU();
    case 'headlessgl':
      return probeHeadlessGL();
    case 'webasm':
      return probeWebAsm();
    case 'cpu':
      return probeCpu();
  }
}

/**
 * webgpu probed in a child process (see probe-child.ts). Only a hardware adapter
 * is then opened in this process; a software one is passed over anyway.
 */
function probeWebGPUIsolated(): Promise<BackendProbe> {
  // From the sources (tsx, vitest) the child needs tsx too; the compiled package runs its .js as it is.
  const fromSources = import.meta.url.endsWith('.ts');
  const script = fileURLToPath(new URL(fromSources ? './probe-child.ts' : './probe-child.js', import.meta.url));
  return new Promise((resolve) => {
    execFile(process.execPath, [...(fromSources ? ['--import', 'tsx'] : []), script], { timeout: 60_000 }, (error, stdout) => {
      try {
        if (error) throw error;
        resolve(JSON.parse(stdout.trim().split('\n').pop() ?? '') as BackendProbe);
      } catch (e) {
        resolve({ backend: 'webgpu', available: false, hardware: false, detail: `The webgpu probe process failed: ${(e as Error).message.split('\n')[0]}` });
      }
    });
  });
}

/**
 * `auto` takes a real GPU (webgpu adapter, else headless GL on a hardware
 * renderer), else threaded webasm, else cpu. A software rasteriser is never
 * chosen automatically: on a CPU it is the slowest way to run. An explicit
 * request that cannot be met is an error, never a silent substitute.
 */
export async function selectBackend(request: BackendRequest): Promise<Compute> {
  const probes: BackendProbe[] = [];
  if (request !== 'auto') {
    const p = await probe(request);
    probes.push(p);
    if (!p.available) throw new BackendError(`The ${request} backend is not available: ${p.detail}`);
    return open(p, probes);
  }
  const webgpu = await probeWebGPUIsolated();
  probes.push(webgpu);
  if (webgpu.available && webgpu.hardware) return open(await probe('webgpu'), probes);
  const gl = probeHeadlessGL();
  probes.push(gl);
  if (gl.available && gl.hardware) return open(gl, probes);
  for (const name of ['webasm', 'cpu'] as const) {
    const p = await probe(name);
    probes.push(p);
    if (p.available) return open(p, probes);
  }
  throw new BackendError('No gpu.js backend works in this process, not even cpu.');
}

async function open(p: BackendProbe, probes: BackendProbe[]): Promise<Compute> {
  // The mode is always explicit: with DISPLAY set, gpu.js's own default picks
  // headlessgl even on a software rasteriser.
  const gpu = new GPU({ mode: p.backend });
  const threads = Math.min(availableParallelism(), 8);
  // On webasm the matrix products run on wasm-gemm (gpu.js's webasm products top
  // out near 2.3 GFLOP/s per thread). cpu stays pure gpu.js: it is the reference
  // every other backend is checked against. GPU backends keep gpu.js for everything.
  let gemm: WasmGemm | undefined;
  let detail = p.detail;
  if (p.backend === 'webasm') {
    if (!gpujsPatched()) detail += '; gpu.js is unpatched (npm install ran without scripts): exp calls JavaScript per element and reads gather, so kernels run slower';
    try {
      gemm = await WasmGemm.create(threads);
    } catch (e) {
      detail += `; wasm-gemm unavailable, products on gpu.js: ${e instanceof Error ? e.message : String(e)}`;
    }
  }
  // With wasm-gemm running, its workers own the other cores: gpu.js's own worker
  // pool competed with them and held its own copy of every threaded kernel's
  // memory. All-synchronous gpu.js kernels beside the GEMM, measured with
  // `charlm bench` (2 cores, quiet): small GRU 198 -> 173 ms a step and peak RSS
  // 296 -> 207 MB, medium LSTM 474 -> 433 ms and 373 -> 290 MB, large GRU
  // 2048 -> 1472 ms and 715 -> 571 MB.
  const runner = new KernelRunner(gpu, p.backend, gemm ? Number.POSITIVE_INFINITY : THREADED_FROM_CELLS, threads, gemm);
  return { runner, backend: p.backend, detail, probes };
}

/**
 * One line for headers and logs: what executes, what `auto` passed over and
 * why, and anything that did not run where asked.
 */
export function describeBackend(compute: Compute): string {
  const ran = compute.runner.executedBackends;
  const fell = compute.runner.fallbackReasons;
  // Before the first kernel, say what is set up to run; afterwards, what did.
  const what = (ran.length > 0 ? ran : compute.runner.plannedBackends).join(' + ');
  const passed = compute.probes
    .filter((p) => p.backend !== compute.backend)
    .map((p) => `${p.backend}: ${p.available ? `software only (${p.detail})` : p.detail}`);
  return (
    `${what} (${compute.detail})` +
    (compute.calibration ? `; ${compute.calibration}` : '') +
    (passed.length ? `; passed over ${passed.join('; ')}` : '') +
    (fell.length ? `; fallbacks: ${fell.join('; ')}` : '')
  );
}
