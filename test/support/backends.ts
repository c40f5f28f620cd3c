import { selectBackend, type Compute } from '../../src/compute/backend.js';
import type { BackendName } from '../../src/compute/probe.js';
import { probeWebGPU } from '../../src/compute/probe.js';
import { ensureDisplay } from './xvfb.js';

/** Backends every machine that runs the suite must have (headlessgl under Xvfb, started here). */
export const REQUIRED_BACKENDS: readonly BackendName[] = ['cpu', 'webasm', 'headlessgl'];

/** Opens a backend for a test file, starting an X server first when headless GL needs one. */
export async function openBackend(name: BackendName): Promise<Compute> {
  if (name === 'headlessgl') await ensureDisplay();
  return selectBackend(name);
}

/** webgpu runs here through Dawn's OpenGL ES path on Mesa; on a machine without an adapter its tests are skipped. */
export async function webgpuAvailable(): Promise<boolean> {
  return (await probeWebGPU()).available;
}
