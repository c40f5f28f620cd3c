import { availableParallelism } from 'node:os';
import { GPU } from 'gpu.js';
import { KernelRunner } from './kernels.js';
import { probeCpu, probeHeadlessGL, probeWebAsm, probeWebGPU, type BackendName, type BackendProbe } from './probe.js';

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
}

export class BackendError extends Error {
  override readonly name = 'BackendError';
}

/**
 * webasm kernels with at least this many output cells run threaded (gpu.js's async
 * contract); smaller ones stay synchronous, where the ~70 µs pool round trip would
 * cost more than the work.
 */
const THREADED_FROM_CELLS = 16384;

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
  for (const name of ['webgpu', 'headlessgl'] as const) {
    const p = await probe(name);
    probes.push(p);
    if (p.available && p.hardware) return open(p, probes);
  }
  for (const name of ['webasm', 'cpu'] as const) {
    const p = await probe(name);
    probes.push(p);
    if (p.available) return open(p, probes);
  }
  throw new BackendError('No gpu.js backend works in this process, not even cpu.');
}

function open(p: BackendProbe, probes: BackendProbe[]): Compute {
  // The mode is always explicit: with DISPLAY set, gpu.js's own default picks
  // headlessgl even on a software rasteriser.
  const gpu = new GPU({ mode: p.backend });
  const runner = new KernelRunner(gpu, p.backend, THREADED_FROM_CELLS, Math.min(availableParallelism(), 8));
  return { runner, backend: p.backend, detail: p.detail, probes };
}

/** One line for headers and logs: what executes, and anything that did not run where asked. */
export function describeBackend(compute: Compute): string {
  const ran = compute.runner.executedBackends;
  const fell = compute.runner.fallbackReasons;
  const what = ran.length > 0 ? ran.join(' + ') : compute.backend;
  return `${what} (${compute.detail})${fell.length ? `; fallbacks: ${fell.join('; ')}` : ''}`;
}
