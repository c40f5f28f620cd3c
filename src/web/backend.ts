/// <reference lib="dom" />
import { GPU, WebGL2Kernel, type IKernelFunctionThis } from 'gpu.js';
import { KernelRunner } from '../compute/kernels.js';
import type { BackendName } from '../compute/probe.js';
import { SOFTWARE_RENDERER } from '../compute/software-renderer.js';

/** gpu.js's modes in a browser, in the order `auto` tries them. */
export type BrowserMode = 'webgpu' | 'webgl2' | 'webgl' | 'cpu';
const BROWSER_MODES: readonly BrowserMode[] = ['webgpu', 'webgl2', 'webgl', 'cpu'];
export type BrowserRequest = 'auto' | BrowserMode;

/** A browser backend that ran a check kernel correctly, ready for the sampler. */
export interface BrowserCompute {
  readonly runner: KernelRunner;
  readonly mode: BrowserMode;
  /** Why `auto` passed over the modes before it, one entry each. */
  readonly passedOver: readonly string[];
}

/**
 * KernelRunner names gpu.js's GL kernel family `headlessgl` (every WebGL
 * kernel reports gpu.js's generic mode `gpu`), and runs webgpu kernels
 * asynchronously; in a browser the same two families are WebGL and WebGPU.
 */
const RUNNER_BACKEND: Record<BrowserMode, BackendName> = { webgpu: 'webgpu', webgl2: 'headlessgl', webgl: 'headlessgl', cpu: 'cpu' };

function double(this: IKernelFunctionThis, a: number[]): number {
  return a[this.thread.x] * 2;
}

/** Whether the kernel object is the one `mode` should give, not a class gpu.js fell back to. */
function ranAs(kernel: object, mode: BrowserMode): boolean {
  // gpu.js's kernel classes name their family; WebGL 1 and 2 share `gpu`.
  const family = (kernel.constructor as { mode?: string }).mode;
  switch (mode) {
    case 'webgl2':
      return kernel instanceof WebGL2Kernel;
    case 'webgl':
      return family === 'gpu' && !(kernel instanceof WebGL2Kernel);
    default:
      return family === mode;
  }
}

async function supported(mode: BrowserMode): Promise<boolean> {
  switch (mode) {
    case 'webgpu':
      return GPU.isWebGPUAvailable();
    case 'webgl2':
      return GPU.isWebGL2Supported;
    case 'webgl':
      return GPU.isWebGLSupported;
    case 'cpu':
      return true;
  }
}

/** The WebGL renderer's name, where the browser tells it. */
function glRenderer(mode: 'webgl2' | 'webgl'): string | null {
  const canvas = document.createElement('canvas');
  const gl = mode === 'webgl2' ? canvas.getContext('webgl2') : canvas.getContext('webgl');
  if (!gl) return null;
  const info = gl.getExtension('WEBGL_debug_renderer_info');
  const name: unknown = gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER);
  gl.getExtension('WEBGL_lose_context')?.loseContext();
  return typeof name === 'string' ? name : null;
}

/**
 * null when `mode` works in this browser; else why not, in a few words.
 * Under `auto` a software WebGL renderer is passed over, as the terminal's
 * auto passes one over: on a CPU it samples some 20 times slower than cpu.
 */
async function check(mode: BrowserMode, auto: boolean): Promise<string | null> {
  if (!(await supported(mode))) return 'not supported by this browser';
  if (auto && mode === 'webgpu') {
    const adapter = await navigator.gpu.requestAdapter();
    const info = adapter?.info;
    const name = info ? [info.vendor, info.architecture, info.description].filter((s) => s !== '').join(' ') : '';
    if (info?.isFallbackAdapter || SOFTWARE_RENDERER.test(name)) return `software adapter (${name || 'a fallback adapter'})`;
  }
  if (auto && (mode === 'webgl2' || mode === 'webgl')) {
    const renderer = glRenderer(mode);
    if (renderer !== null && SOFTWARE_RENDERER.test(renderer)) return `software renderer (${renderer})`;
  }
  const gpu = new GPU({ mode });
  try {
    const kernel = gpu.createKernel(double, { output: [4], precision: 'single', asyncMode: mode === 'webgpu' });
    const out: unknown = await kernel([1, 2, 3, 4]);
    if (!ranAs(kernel.kernel, mode)) return 'gpu.js fell back to another mode';
    const values = Array.from(out as ArrayLike<number>);
    if (values.join() !== '2,4,6,8') return `a check kernel gave ${values.join(', ')} instead of 2, 4, 6, 8`;
    return null;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  } finally {
    gpu.destroy();
  }
}

/**
 * The backend asked for, or under `auto` the first mode on real hardware that
 * runs a check kernel correctly on the kernel class it asked for: as in the
 * terminal, a silent fallback is a bug, so a request that cannot be met is an
 * error.
 */
export async function openBrowserBackend(request: BrowserRequest): Promise<BrowserCompute> {
  const passedOver: string[] = [];
  const auto = request === 'auto';
  for (const mode of auto ? BROWSER_MODES : [request]) {
    const why = await check(mode, auto);
    if (why === null) {
      // The browser build's pipelines keep no state between calls, so on webgpu the sampler steps kernel by kernel.
      const runner = new KernelRunner(new GPU({ mode }), RUNNER_BACKEND[mode], Number.POSITIVE_INFINITY, 1, undefined, false);
      return { runner, mode, passedOver };
    }
    passedOver.push(`${mode}: ${why}`);
  }
  throw new Error(`No gpu.js backend works here (${passedOver.join('; ')}).`);
}
