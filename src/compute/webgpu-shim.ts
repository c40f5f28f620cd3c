// Gives Node a `navigator.gpu` backed by Dawn (the `webgpu` package) so that
// gpu.js's webgpu backend, written for browsers, can run here.
//
// The `webgpu` package is loaded by a computed specifier on purpose: its type
// declarations pull @webgpu/types into the global scope of the whole program,
// and the few shapes needed here are declared locally instead.

import { mkdirSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { countDeviceTraffic } from './device-traffic.js';

export type WebGPUShimResult = { ok: true; adapter: string } | { ok: false; reason: string };

interface AdapterInfoLike {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}

interface AdapterLike {
  info?: AdapterInfoLike;
  limits: Record<string, number | undefined>;
  requestDevice(desc?: DeviceDescriptorLike): Promise<unknown>;
}

interface DeviceDescriptorLike {
  requiredLimits?: Record<string, number>;
  [key: string]: unknown;
}

interface AdapterOptionsLike {
  featureLevel?: string;
  [key: string]: unknown;
}

interface GPULike {
  requestAdapter(options?: AdapterOptionsLike): Promise<AdapterLike | null>;
  readonly wgslLanguageFeatures?: unknown;
}

interface DawnModule {
  create(flags: string[]): GPULike;
  globals?: Record<string, unknown>;
}

// Dawn's backends in the order they are tried. Vulkan is what a machine with a
// real GPU answers on; OpenGL ES through EGL reaches Mesa's llvmpipe where
// Vulkan has no usable device (Debian 12's lavapipe lacks features Dawn needs).
const DAWN_BACKENDS = ['vulkan', 'opengles'] as const;
type DawnBackend = (typeof DAWN_BACKENDS)[number];

// gpu.js fails kernels with 8 or more array arguments under WebGPU's default
// of 8 storage buffers per stage; ask the device for what the adapter offers.
const RAISED_LIMITS = ['maxStorageBuffersPerShaderStage', 'maxComputeWorkgroupStorageSize'] as const;

let cached: Promise<WebGPUShimResult> | undefined;
let backendInUse: DawnBackend | undefined;

/**
 * The Dawn backend behind navigator.gpu once installNavigatorGPU() has
 * succeeded in this process, so other GL users can stay clear of it: Mesa
 * cannot keep Dawn's EGL context and headless-gl's GLX context current on the
 * same thread (whichever binds second fails; GLX then kills the process).
 */
export function dawnBackendInUse(): 'vulkan' | 'opengles' | undefined {
  return backendInUse;
}

export function installNavigatorGPU(): Promise<WebGPUShimResult> {
  cached ??= install().catch(
    (error: unknown): WebGPUShimResult => ({ ok: false, reason: `WebGPU setup failed: ${oneLine(error)}.` }),
  );
  return cached;
}

async function install(): Promise<WebGPUShimResult> {
  const existing = existingGPU();
  if (existing) {
    const adapter = await existing.requestAdapter().catch(() => null);
    if (!adapter) return { ok: false, reason: 'navigator.gpu is present but no WebGPU adapter answered.' };
    return { ok: true, adapter: `${describeAdapter(adapter)} (existing navigator.gpu)` };
  }

  let dawn: DawnModule;
  try {
    const specifier = 'webgpu';
    dawn = (await import(specifier)) as DawnModule;
  } catch (error) {
    return { ok: false, reason: `The webgpu package (Dawn) could not be loaded: ${oneLine(error)}.` };
  }

  const tried: string[] = [];
  for (const backend of DAWN_BACKENDS) {
    const skip = backendPrecondition(backend);
    if (skip) {
      tried.push(`${backend}: ${skip}`);
      continue;
    }
    try {
      const gpu = dawn.create([`backend=${backend}`]);
      const found = await firstAdapter(gpu);
      if (!found) {
        tried.push(`${backend}: no adapter`);
        continue;
      }
      installGlobals(dawn, wrapGPU(gpu, found.featureLevel));
      countDeviceTraffic();
      backendInUse = backend;
      const level = found.featureLevel === 'core' ? '' : `, ${found.featureLevel}`;
      return { ok: true, adapter: `${describeAdapter(found.adapter)} (Dawn ${backend}${level})` };
    } catch (error) {
      tried.push(`${backend}: ${oneLine(error)}`);
    }
  }
  return { ok: false, reason: `No WebGPU adapter answered through Dawn (${tried.join('; ')}).` };
}

function existingGPU(): GPULike | undefined {
  const nav = (globalThis as { navigator?: { gpu?: GPULike } }).navigator;
  return nav?.gpu ?? undefined;
}

// Returns why a backend should not be tried, or undefined to try it.
function backendPrecondition(backend: DawnBackend): string | undefined {
  if (backend === 'vulkan' && process.platform === 'linux' && !canLoadLibrary('libvulkan.so.1')) {
    // Without the Vulkan loader Dawn only prints a multi-line warning to
    // stderr on every start; skipping keeps the CLI's stderr clean.
    return 'Vulkan loader libvulkan.so.1 not installed';
  }
  if (backend === 'opengles') {
    // Dawn's GL backend asks EGL for a default display; without an X or
    // Wayland display Mesa finds none unless told to go surfaceless, and
    // surfaceless also works when a display exists. Mesa also complains when
    // XDG_RUNTIME_DIR is missing.
    process.env.EGL_PLATFORM ||= 'surfaceless';
    if (!process.env.XDG_RUNTIME_DIR) {
      process.env.XDG_RUNTIME_DIR = runtimeDir();
    }
  }
  return undefined;
}

// Loading a plain shared library as a Node addon fails either with "did not
// self-register" (the library exists) or with a dlopen "cannot open" error.
function canLoadLibrary(name: string): boolean {
  try {
    process.dlopen({ exports: {} }, name);
    return true;
  } catch (error) {
    return !/cannot open shared object file/i.test(String((error as Error)?.message ?? error));
  }
}

function runtimeDir(): string {
  const uid = typeof process.getuid === 'function' ? process.getuid() : 'user';
  const dir = join(tmpdir(), `charlm-runtime-${uid}`);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch {
    return tmpdir();
  }
  return dir;
}

async function firstAdapter(
  gpu: GPULike,
): Promise<{ adapter: AdapterLike; featureLevel: 'core' | 'compatibility' } | undefined> {
  const core = await gpu.requestAdapter().catch(() => null);
  if (core) return { adapter: core, featureLevel: 'core' };
  // Mesa's GLES 3.2 on llvmpipe only meets WebGPU's compatibility level.
  const compat = await gpu.requestAdapter({ featureLevel: 'compatibility' }).catch(() => null);
  if (compat) return { adapter: compat, featureLevel: 'compatibility' };
  return undefined;
}

function wrapGPU(gpu: GPULike, featureLevel: 'core' | 'compatibility'): object {
  return {
    async requestAdapter(options?: AdapterOptionsLike) {
      // gpu.js asks without options; without the feature level an adapter
      // that is only compatibility-level would not answer at all.
      const request = featureLevel === 'core' ? options : { featureLevel, ...(options ?? {}) };
      const adapter = await gpu.requestAdapter(request);
      return adapter ? withRaisedLimits(adapter) : adapter;
    },
    getPreferredCanvasFormat: () => 'rgba8unorm',
    get wgslLanguageFeatures() {
      return gpu.wgslLanguageFeatures;
    },
  };
}

function withRaisedLimits(adapter: AdapterLike): AdapterLike {
  const wrapped = Object.create(adapter) as AdapterLike;
  const requestDevice = adapter.requestDevice.bind(adapter);
  wrapped.requestDevice = (desc: DeviceDescriptorLike = {}) => {
    const raised: Record<string, number> = {};
    for (const name of RAISED_LIMITS) {
      const value = adapter.limits[name];
      if (typeof value === 'number') raised[name] = value;
    }
    return requestDevice({ ...desc, requiredLimits: { ...raised, ...(desc.requiredLimits ?? {}) } });
  };
  return wrapped;
}

function installGlobals(dawn: DawnModule, gpu: object): void {
  // WebGPU code written for browsers reads enums such as GPUBufferUsage from
  // the global scope; never overwrite anything already there.
  for (const [name, value] of Object.entries(dawn.globals ?? {})) {
    if (!(name in globalThis)) {
      Object.defineProperty(globalThis, name, { value, configurable: true, writable: true });
    }
  }
  const current = (globalThis as { navigator?: object }).navigator;
  if (current && typeof current === 'object') {
    // Node 21+ has its own navigator object; add gpu to it.
    Object.defineProperty(current, 'gpu', { value: gpu, configurable: true, enumerable: true });
    return;
  }
  Object.defineProperty(globalThis, 'navigator', {
    value: { gpu, hardwareConcurrency: availableParallelism() },
    configurable: true,
    writable: true,
    enumerable: true,
  });
}

function describeAdapter(adapter: AdapterLike): string {
  const info = adapter.info ?? {};
  const parts = [info.vendor, info.architecture, info.device, info.description]
    .map((part) => (part ?? '').trim())
    .filter((part, index, all) => part !== '' && all.indexOf(part) === index);
  const name = parts.length > 0 ? parts.join(' / ') : 'unnamed adapter';
  return info.isFallbackAdapter === true ? `${name} [fallback adapter]` : name;
}

function oneLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0]!.trim().replace(/\.$/, '');
}
