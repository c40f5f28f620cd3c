import { GPU, type IKernelRunShortcut, type IPipelineRunShortcut, type IPipelineSettings, type PipelineFunction } from 'gpu.js';
import { countGLTraffic } from './device-traffic.js';
import type { KernelSource } from './kernel-sources.js';
import type { BackendName } from './probe.js';
import type { WasmGemm } from './wasm-gemm/gemm.js';

/** What a kernel may take: flat float arrays (tensors, ids) and numbers (scalars). */
export type KernelArg = Float32Array | number;

/**
 * Compiles gpu.js kernels on first use (one per shape, dimensions baked in) and
 * runs them, returning flat Float32Arrays whatever output shape the backend hands
 * back. Records every backend a kernel actually ran on, so a silent gpu.js
 * fallback (say webasm → cpu) is visible in the backend report instead of hidden.
 */
export class KernelRunner {
  private readonly cache = new Map<string, IKernelRunShortcut>();
  private readonly executed = new Set<string>();
  private readonly fallbacks = new Set<string>();

  constructor(
    private readonly gpu: GPU,
    readonly backend: BackendName,
    /** Output cells from which a webasm kernel runs on the worker pool (async contract). */
    private readonly threadedFrom: number,
    /** Worker pool size of each threaded webasm kernel. */
    private readonly threads: number,
    /** When set, kernels with a `product` run on this WebAssembly SIMD GEMM instead of gpu.js. */
    private readonly gemm?: WasmGemm,
    /**
     * Whether createPipeline keeps state on the device between calls (its
     * `carry` and `resident` settings): the gpu.js in node_modules does, patched
     * by src/compute/patches; gpu.js's prebuilt browser build is not patched.
     */
    readonly pipelinesCarryState = true,
  ) {}

  private gemmRan = false;

  /** Floating-point operations (2·M·N·K) of every matrix product run so far, on any backend. */
  productFlops = 0;

  async run(src: KernelSource, ...args: KernelArg[]): Promise<Float32Array> {
    return this.execute(src, args);
  }

  /**
   * As `run`, with the result written into `out` (its exact size) and `out`
   * returned: wasm-gemm and patched webasm kernels write there directly,
   * sparing a fresh array per call; other gpu.js kernels are copied in.
   */
  async runInto(out: Float32Array, src: KernelSource, ...args: KernelArg[]): Promise<Float32Array> {
    return this.execute(src, args, out);
  }

  private async execute(src: KernelSource, args: KernelArg[], into?: Float32Array): Promise<Float32Array> {
    if (src.product) this.productFlops += 2 * src.product.M * src.product.N * src.product.K;
    if (this.gemm && src.product) {
      const arrays = args.filter((a): a is Float32Array => a instanceof Float32Array);
      if (arrays.length !== args.length) throw new TypeError(`${src.key}: a matrix product takes only arrays`);
      const out = await this.gemm.run(src.product, arrays, into);
      this.gemmRan = true;
      return out;
    }
    const kernel = this.kernel(src);
    // Patched webasm kernels write a synchronous run's result straight into `into`.
    if (into) (kernel.kernel as { outputTarget?: Float32Array | null }).outputTarget = into;
    const result: unknown = await kernel(...args);
    if (into) (kernel.kernel as { outputTarget?: Float32Array | null }).outputTarget = null;
    if (!this.executed.has(src.key)) this.noteExecution(src.key, kernel);
    if (into && result === into) return into;
    const flat = flatten(result, src.output);
    if (!into) return flat;
    if (into.length !== flat.length) throw new TypeError(`${src.key}: the output array should hold ${flat.length} floats, not ${into.length}`);
    into.set(flat);
    return into;
  }

  /**
   * The compiled kernel of `src`, to be called inside a pipeline orchestration
   * (createPipeline records the call; nothing runs until the pipeline does).
   */
  pipelineKernel(src: KernelSource): IKernelRunShortcut {
    this.pipelineFlops += src.product ? 2 * src.product.M * src.product.N * src.product.K : (src.flops ?? 0);
    return this.kernel(src);
  }

  /** Matrix-product FLOPs recorded into pipelines so far (a pipeline call runs all of its own). */
  pipelineFlops = 0;

  /** gpu.js's whole-plan compilation on this runner's GPU: one submit and one readback per call on webgpu. */
  createPipeline(fn: PipelineFunction, settings: IPipelineSettings): IPipelineRunShortcut {
    return this.gpu.createPipeline(fn, settings);
  }

  /** Notes that a pipeline's kernels ran, for the backend report. */
  notePipelineRun(executorKind: string, fallbackReason: string | null): void {
    this.countGLTraffic((this.gpu as { context?: object | null }).context);
    this.pipelineRuns.add(executorKind);
    if (fallbackReason) this.fallbacks.add(`a pipeline ran on its ${executorKind} executor: ${fallbackReason}`);
  }

  private readonly pipelineRuns = new Set<string>();

  /**
   * A promise that `a` keeps its contents until `unpin(a)`: wasm-gemm then keeps
   * weight matrices inside it packed between products. Other backends ignore it.
   */
  pin(a: Float32Array): void {
    this.gemm?.pin(a);
  }

  unpin(a: Float32Array): void {
    this.gemm?.unpin(a);
  }

  /** Backends that actually executed kernels so far: one gpu.js mode, plus `wasm-gemm` once a product ran there. */
  get executedBackends(): string[] {
    const pipelines = [...this.pipelineRuns].map((kind) => `${this.backend} ${kind} pipeline`);
    return [...new Set(this.executedModes()), ...pipelines, ...(this.gemmRan ? ['wasm-gemm'] : [])];
  }

  /** What will execute: the gpu.js backend, plus `wasm-gemm` when products go there. */
  get plannedBackends(): string[] {
    return [this.backend, ...(this.gemm ? ['wasm-gemm'] : [])];
  }

  /** Kernels that did not run on the requested backend, with gpu.js's reason. */
  get fallbackReasons(): string[] {
    return [...this.fallbacks];
  }

  destroy(): void {
    this.gpu.destroy();
    this.gemm?.destroy();
    this.cache.clear();
  }

  private *executedModes(): Iterable<string> {
    for (const key of this.executed) {
      const k = this.cache.get(key);
      if (k) yield modeOf(k);
    }
  }

  private noteExecution(key: string, kernel: IKernelRunShortcut): void {
    this.executed.add(key);
    this.countGLTraffic((kernel.kernel as { context?: object | null }).context);
    const mode = modeOf(kernel);
    if (mode !== this.backend) {
      const reason = (kernel.kernel as { fallbackReason?: string }).fallbackReason ?? 'no reason given';
      this.fallbacks.add(`${key.split(':')[0]} ran on ${mode} instead of ${this.backend}: ${reason}`);
    }
  }

  /** headless-gl's context exists once a kernel has run: from then on its readbacks and uploads are counted. */
  private countGLTraffic(context: object | null | undefined): void {
    if (this.backend === 'headlessgl' && context) countGLTraffic(context);
  }

  private kernel(src: KernelSource): IKernelRunShortcut {
    let k = this.cache.get(src.key);
    if (k) return k;
    const cells = src.output.reduce((a, b) => a * b, 1);
    const asyncMode = this.backend === 'webgpu' || (this.backend === 'webasm' && cells >= this.threadedFrom);
    k = this.gpu.createKernel(src.source, {
      output: [...src.output],
      precision: 'single',
      tactic: 'precision',
      asyncMode,
      ...(this.backend === 'webasm' ? { poolSize: this.threads } : {}),
    });
    // Patched webasm kernels (src/compute/patches) then return their flat data
    // instead of a subarray per row (B·blocks of them for a gate kernel);
    // flatten takes either, and a kernel gpu.js switches to ignores it.
    (k.kernel as { flatOutput?: boolean }).flatOutput = true;
    this.cache.set(src.key, k);
    return k;
  }
}

/** The gpu.js mode that really ran this kernel (it may differ from the requested one). */
function modeOf(k: IKernelRunShortcut): string {
  const inner = k.kernel as { constructor: { mode?: string } } | undefined;
  const mode = inner?.constructor?.mode ?? 'unknown';
  // gpu.js's headless-gl kernel reports the generic 'gpu' mode.
  return mode === 'gpu' ? 'headlessgl' : mode;
}

/** gpu.js returns 2D and 3D outputs as nested arrays of rows; make every result one flat row-major array. */
export function flatten(result: unknown, output: readonly number[]): Float32Array {
  if (result instanceof Float32Array) return result;
  const rows: Float32Array[] = [];
  const collect = (a: unknown): void => {
    if (a instanceof Float32Array) rows.push(a);
    else for (const x of a as unknown[]) collect(x);
  };
  collect(result);
  const cols = output[0];
  const first = rows[0];
  const last = rows[rows.length - 1];
  // webasm hands back views of one fresh buffer, already contiguous: reuse it.
  if (first.buffer === last.buffer && last.byteOffset - first.byteOffset === (rows.length - 1) * cols * 4) {
    return new Float32Array(first.buffer, first.byteOffset, rows.length * cols);
  }
  const out = new Float32Array(rows.length * cols);
  for (let r = 0; r < rows.length; r++) out.set(rows[r], r * cols);
  return out;
}
