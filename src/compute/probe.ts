// Finds out which gpu.js backends really work in this process, by running a
// tiny kernel on each and checking both its numbers and which kernel class
// ran it: gpu.js can silently degrade a kernel to cpu, and `--backend auto`
// must never pick a backend on the strength of a flag alone.

import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { GPU, HeadlessGLKernel, type IKernelFunctionThis, type IKernelRunShortcut } from 'gpu.js';
import { SOFTWARE_RENDERER } from './software-renderer.js';
import { dawnBackendInUse, installNavigatorGPU } from './webgpu-shim.js';

export type BackendName = 'webgpu' | 'headlessgl' | 'webasm' | 'cpu';

export interface BackendProbe {
  backend: BackendName;
  available: boolean;
  /** A real GPU, not a software rasteriser such as llvmpipe, SwiftShader or lavapipe. */
  hardware: boolean;
  /** Renderer or adapter description when available, otherwise why not (one sentence). */
  detail: string;
}

const INPUT_A = [1, 2, 3, 4, 5, 6, 7, 8];
const INPUT_B = [0.5, -1, 0.25, 0, 3, -2.5, 0.125, 10];
const EXPECTED = INPUT_A.map((a, i) => a * 2 + INPUT_B[i]);

// Long enough for a first shader compile on llvmpipe, short enough that a
// wedged driver cannot stall the caller indefinitely.
const WEBGPU_TIMEOUT_MS = 30_000;

function probeKernel(this: IKernelFunctionThis, a: number[], b: number[]): number {
  return a[this.thread.x] * 2 + b[this.thread.x];
}

export function probeCpu(): BackendProbe {
  return runSync('cpu', 'cpu', (kernel) => {
    if (modeOf(kernel) !== 'cpu') return `ran as ${modeOf(kernel)} instead of cpu`;
    return undefined;
  }, () => 'plain JavaScript on the CPU (reference backend)');
}

export function probeWebAsm(): BackendProbe {
  const gate = safely(() => GPU.isWebAssemblySupported);
  if (gate !== true) {
    return unavailable('webasm', 'WebAssembly (with SIMD) is not supported by this JavaScript runtime.');
  }
  return runSync('webasm', 'webasm', (kernel) => {
    const reason = kernel.kernel.fallbackReason;
    if (modeOf(kernel) !== 'webasm') {
      return `fell back to ${modeOf(kernel)}${reason ? ` (${reason})` : ''}`;
    }
    return undefined;
  }, () => `WebAssembly SIMD on the CPU (${availableParallelism()} hardware threads)`);
}

export function probeHeadlessGL(): BackendProbe {
  let createContext: GLFactory;
  try {
    createContext = loadGL();
  } catch {
    return unavailable(
      'headlessgl',
      'The optional gl addon is not installed (its native build failed or was skipped during npm install).',
    );
  }
  if (dawnBackendInUse() === 'opengles') {
    // Binding a GLX context now would make Xlib end the process with a
    // BadAccess error, which no try/catch can stop.
    return unavailable(
      'headlessgl',
      "headless-gl cannot run in this process: WebGPU already uses Dawn's OpenGL ES backend here, and Mesa cannot bind headless-gl's GLX context beside it.",
    );
  }
  const display = process.env.DISPLAY;
  if (!display) {
    // Checked before gpu.js sees headless-gl at all: gpu.js remembers its
    // first support check for the life of the process, so asking it now
    // would rule headlessgl out even after a display appears.
    return unavailable('headlessgl', 'No X display: DISPLAY is not set, and headless-gl needs one (use Xvfb).');
  }

  let renderer: string;
  try {
    const gl = createContext(1, 1);
    if (!gl) {
      return unavailable('headlessgl', `headless-gl could not create an OpenGL context on X display ${display}.`);
    }
    glContextCreated = true;
    renderer = realRenderer(gl);
    gl.getExtension('STACKGL_destroy_context')?.destroy?.();
  } catch (error) {
    return unavailable('headlessgl', `headless-gl failed on X display ${display}: ${oneLine(error)}.`);
  }
  const hardware = renderer !== 'ANGLE' && !SOFTWARE_RENDERER.test(renderer);

  if (safely(() => GPU.isHeadlessGLSupported) !== true) {
    return unavailable(
      'headlessgl',
      `gpu.js refuses headlessgl although ${renderer} answers on ${display}: it ruled headlessgl out earlier in this process, before a display was available.`,
      hardware,
    );
  }
  const probe = runSync('headlessgl', 'headlessgl', (kernel) => {
    // gpu.js's GL kernels all report mode 'gpu'; the class tells headless-gl apart.
    if (!(kernel.kernel instanceof HeadlessGLKernel)) {
      const reason = kernel.kernel.fallbackReason;
      return `fell back to ${modeOf(kernel)}${reason ? ` (${reason})` : ''}`;
    }
    return undefined;
  }, () => `${renderer} on X display ${display}`);
  return { ...probe, hardware: probe.available && hardware };
}

export async function probeWebGPU(): Promise<BackendProbe> {
  try {
    return await withTimeout(probeWebGPUUnguarded(), WEBGPU_TIMEOUT_MS);
  } catch (error) {
    return unavailable('webgpu', `WebGPU probe failed: ${oneLine(error)}.`);
  }
}

async function probeWebGPUUnguarded(): Promise<BackendProbe> {
  const shim = await installNavigatorGPU();
  if (!shim.ok) {
    if (headlessGLActive()) {
      return unavailable(
        'webgpu',
        `${shim.reason.replace(/\.$/, '')}; headless-gl already holds a GL context in this process, and Mesa cannot bind Dawn's OpenGL ES context beside it.`,
      );
    }
    return unavailable('webgpu', shim.reason);
  }

  // The shim's description carries vendor, architecture, device, description
  // and a fallback-adapter mark; asking for another adapter here would only
  // repeat Dawn's start-up warnings on stderr.
  const hardware = !SOFTWARE_RENDERER.test(shim.adapter) && !/fallback adapter/i.test(shim.adapter);

  const gpu = new GPU({ mode: 'webgpu' });
  try {
    const kernel = gpu.createKernel(probeKernel, { output: [INPUT_A.length] });
    const result: unknown = await kernel(INPUT_A, INPUT_B);
    const wrong = checkResult(result);
    if (wrong) return unavailable('webgpu', `A test kernel on ${shim.adapter} ${wrong}.`, hardware);
    if (modeOf(kernel) !== 'webgpu') {
      return unavailable('webgpu', `A test kernel on ${shim.adapter} ran as ${modeOf(kernel)} instead of webgpu.`, hardware);
    }
    return { backend: 'webgpu', available: true, hardware, detail: shim.adapter };
  } finally {
    safely(() => gpu.destroy());
  }
}

interface GLContext {
  readonly RENDERER: number;
  getParameter(name: number): unknown;
  getExtension(name: string): { destroy?: () => void; UNMASKED_RENDERER_WEBGL?: number } | null;
}

type GLFactory = (width: number, height: number) => GLContext | null;

let glContextCreated = false;

// Whether a GLX context may be bound on this thread: one made by this probe,
// or gpu.js's own support-check context from any earlier headlessgl use.
function headlessGLActive(): boolean {
  const gpuJsContext = safely(() => (HeadlessGLKernel as unknown as { testContext?: unknown }).testContext);
  return glContextCreated || (gpuJsContext !== undefined && gpuJsContext !== null);
}

// gpu.js loads `gl` from its own location; resolving from there makes the
// probe test the very addon gpu.js will use.
function loadGL(): GLFactory {
  const fromHere = createRequire(import.meta.url);
  const fromGpuJs = createRequire(fromHere.resolve('gpu.js'));
  return fromGpuJs('gl') as GLFactory;
}

// headless-gl's JavaScript layer answers RENDERER with a fixed "ANGLE" and has
// no WEBGL_debug_renderer_info, but its native layer returns ANGLE's real
// string, e.g. "ANGLE (Mesa/X.org llvmpipe (LLVM 15.0.6, 256 bits) OpenGL 4.5 core)".
function realRenderer(gl: GLContext): string {
  const debugInfo = gl.getExtension('WEBGL_debug_renderer_info');
  if (debugInfo?.UNMASKED_RENDERER_WEBGL !== undefined) {
    const unmasked = gl.getParameter(debugInfo.UNMASKED_RENDERER_WEBGL);
    if (typeof unmasked === 'string' && unmasked !== '') return unmasked;
  }
  for (let proto = Object.getPrototypeOf(gl); proto; proto = Object.getPrototypeOf(proto)) {
    const own = Object.getOwnPropertyDescriptor(proto, 'getParameter')?.value as GLContext['getParameter'] | undefined;
    if (typeof own !== 'function') continue;
    try {
      const answer = own.call(gl, gl.RENDERER);
      if (typeof answer === 'string' && answer !== '' && answer !== 'ANGLE') return answer;
    } catch {
      // the native method may reject a context it did not create; try the next
    }
  }
  return 'ANGLE';
}

function runSync(
  backend: BackendName,
  mode: 'cpu' | 'webasm' | 'headlessgl',
  ranAs: (kernel: IKernelRunShortcut) => string | undefined,
  describe: () => string,
): BackendProbe {
  let gpu: GPU | undefined;
  try {
    gpu = new GPU({ mode });
    const kernel = gpu.createKernel(probeKernel, { output: [INPUT_A.length] });
    const result: unknown = kernel(INPUT_A, INPUT_B);
    const wrong = checkResult(result);
    if (wrong) return unavailable(backend, `A test kernel in mode ${mode} ${wrong}.`);
    const elsewhere = ranAs(kernel);
    if (elsewhere) return unavailable(backend, `A test kernel in mode ${mode} ${elsewhere}.`);
    return { backend, available: true, hardware: false, detail: describe() };
  } catch (error) {
    return unavailable(backend, `gpu.js could not run a kernel in mode ${mode}: ${oneLine(error)}.`);
  } finally {
    const owned = gpu;
    if (owned) safely(() => owned.destroy());
  }
}

function checkResult(result: unknown): string | undefined {
  if (!result || typeof (result as ArrayLike<number>).length !== 'number') {
    return `returned ${typeof result} instead of an array`;
  }
  const values = Array.from(result as ArrayLike<number>);
  if (values.length !== EXPECTED.length) return `returned ${values.length} values instead of ${EXPECTED.length}`;
  const bad = values.findIndex((v, i) => !(Math.abs(v - EXPECTED[i]!) <= 1e-5));
  return bad >= 0 ? `computed ${values[bad]} instead of ${EXPECTED[bad]} at index ${bad}` : undefined;
}

function modeOf(kernel: IKernelRunShortcut): string {
  return String((kernel.kernel.constructor as { mode?: unknown }).mode);
}

function unavailable(backend: BackendName, detail: string, hardware = false): BackendProbe {
  return { backend, available: false, hardware, detail };
}

function safely<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms / 1000} s`)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function oneLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0]!.trim().replace(/\.$/, '');
}
