// WasmGemm: the three Product kinds of kernel-sources.ts as a WebAssembly SIMD
// matrix product, threaded over worker_threads that share one WebAssembly.Memory.
// See src/compute/README.md, "Matrix products on CPU (wasm-gemm)", for design
// and measurements; module.ts for the kernel itself.

import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Product } from '../kernel-sources.js';
import { DEFAULT_SHAPE, JOB, JOB_WORDS, buildGemmModule, scratchBytes, type GemmExports } from './module.js';
import { wasm, type WasmMemory, type WasmModule } from './webassembly.js';
import { CALLER_SPIN_US, CONTROL, HOT_SPIN_US, JOB_OFFSET, SPIN_US, WORKER_SOURCE, waitFor } from './worker.js';

/**
 * Row-split products below this many multiply-adds run on the calling thread
 * alone: with the workers asleep, a futex wake each way costs 15–35 µs (more
 * under load), which only products of ≥ 16 M multiply-adds (every window
 * product) earn back.
 */
export const THREADED_FROM_MACS = 16_000_000;
/**
 * Thin products (fewer rows than columns, split by columns) thread from this
 * many multiply-adds while weights are pinned, since the idle workers then spin
 * (HOT_SPIN_US) and a hand-off costs ~1 µs. Measured on 2 cores, pinned, 300 µs
 * of other work between calls, p10 µs one thread → two: 1×65×256 4 → 5,
 * 1×1024×256 24 → 18, 32×512×128 89 → 61, 32×1024×256 nt 330 → 192 and nn
 * 334 → 203, 50×2048×512 nt 2258 → 1148.
 */
export const THIN_THREADED_FROM_MACS = 131_072;
/**
 * A one-row product (batch-1 sampling) threads only from this many
 * multiply-adds: below it, splitting W over the cores costs more in cache
 * lines moving between them (the input written by one core, the output by
 * both) and in the worker's hand-off than it saves. `charlm bench --sample`
 * in turns, threaded → one thread: medium LSTM (1×1024×256) 5697 → 5970
 * chars/s, medium GRU (1×768×256) 6415 → 7511; large LSTM (1×2048×512, 4 MB
 * of W) needs both cores: 2180 threaded, 1184 on one.
 */
export const ROW_THREADED_FROM_MACS = 500_000;
/**
 * Largest A operand kept resident while pinned: medium's dPre (8 MiB) saves two
 * 8 MB copies per layer; large's (20 MB) raised peak RSS by ~34 MB for less.
 */
export const RESIDENT_A_MAX_BYTES = 8 * 2 ** 20;
/** Upper bound on participants (the caller plus workers). */
export const MAX_THREADS = 8;
const PAGE = 65536;
/** 1 GiB: keeps every byte offset a positive i32; shared memories reserve their maximum. */
const MAX_PAGES = 16384;
const DATA_OFFSET = 4096;
/** A worker that has not answered in this long is taken as lost. */
const HANG_MS = 60_000;

const SHAPE = DEFAULT_SHAPE;

let compiled: WasmModule | null = null;
function gemmModule(): WasmModule {
  compiled ??= new wasm.Module(buildGemmModule(SHAPE, MAX_PAGES));
  return compiled;
}

/**
 * One shared memory, one wasm instance on the calling thread and `threads − 1`
 * workers. Pools are shared per thread count and reference-counted, so every
 * runner in a process uses the same small pool.
 */
class Pool {
  readonly memory: WasmMemory = new wasm.Memory({ initial: 1, maximum: MAX_PAGES, shared: true });
  readonly ctl = new Int32Array(this.memory.buffer, 0, 16);
  readonly job = new Int32Array(this.memory.buffer, JOB_OFFSET, JOB_WORDS);
  private readonly exports: GemmExports;
  /** The memory as floats (every region is 64-byte aligned); renewed when the memory grows. */
  private heap: Float32Array;
  private refs = 0;
  private stopped = false;
  /** Packed B operands kept between calls, laid out from DATA_OFFSET; per-call regions start at `residentTop`. */
  readonly resident = new Map<string, Resident>();
  residentTop = DATA_OFFSET;
  /** Bumped whenever the resident layout changes: a Plan made under another epoch is stale. */
  epoch = 0;
  /** Arrays pinned through any handle; while there are some, idle workers spin HOT_SPIN_US. */
  private pinned = 0;

  private constructor(
    readonly threads: number,
    private readonly workers: Worker[],
    module: WasmModule,
  ) {
    this.exports = new wasm.Instance(module, { env: { memory: this.memory } }).exports as unknown as GemmExports;
    this.heap = new Float32Array(this.memory.buffer);
    Atomics.store(this.ctl, CONTROL.SPIN, SPIN_US);
  }

  get hot(): boolean {
    return this.pinned > 0;
  }

  /** Counts pins across handles: workers spin long while weights are pinned (a hot loop of products). */
  pinDelta(d: number): void {
    this.pinned += d;
    Atomics.store(this.ctl, CONTROL.SPIN, this.pinned > 0 ? HOT_SPIN_US : SPIN_US);
  }

  private static readonly pools = new Map<number, Promise<Pool>>();

  static acquire(threads: number): Promise<Pool> {
    let p = Pool.pools.get(threads);
    if (!p) {
      p = Pool.start(threads);
      Pool.pools.set(threads, p);
      p.catch(() => Pool.pools.delete(threads));
    }
    return p.then((pool) => {
      pool.refs++;
      return pool;
    });
  }

  private static async start(threads: number): Promise<Pool> {
    const module = gemmModule();
    const pool = new Pool(threads, [], module);
    const started: Promise<void>[] = [];
    for (let index = 1; index < threads; index++) {
      const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { module, memory: pool.memory, index } });
      pool.workers.push(worker);
      started.push(
        new Promise<void>((resolve, reject) => {
          worker.once('message', () => resolve());
          worker.once('error', reject);
          worker.once('exit', (code) => reject(new Error(`wasm-gemm worker exited with code ${code} while starting`)));
        }),
      );
    }
    try {
      await Promise.all(started);
    } catch (e) {
      pool.stop();
      throw e;
    }
    // Idle workers sleep in Atomics.wait; unref'd, they never keep the process alive.
    for (const w of pool.workers) {
      w.removeAllListeners();
      w.on('error', () => {});
      w.unref();
    }
    return pool;
  }

  release(): void {
    if (--this.refs > 0) return;
    Pool.pools.delete(this.threads);
    this.stop();
  }

  private stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    Atomics.store(this.ctl, CONTROL.STOP, 1);
    Atomics.add(this.ctl, CONTROL.GENERATION, 1);
    Atomics.notify(this.ctl, CONTROL.GENERATION);
    for (const w of this.workers) void w.terminate();
  }

  /** Makes the memory at least `bytes` long (it only grows; regions are reused by every call). */
  reserve(bytes: number): void {
    const have = this.memory.buffer.byteLength;
    if (bytes <= have) return;
    const pages = Math.ceil((bytes - have) / PAGE);
    if (have / PAGE + pages > MAX_PAGES) {
      throw new RangeError(`wasm-gemm: a product needs ${Math.ceil(bytes / 2 ** 20)} MiB, over its ${MAX_PAGES / 16} MiB memory limit`);
    }
    this.memory.grow(pages);
    this.heap = new Float32Array(this.memory.buffer);
  }

  /**
   * Copies in and out with TypedArray.set: on Node 20.20 it matches
   * Buffer.copy from 64 KB up and is 10–30× faster below (a 1 KB operand of a
   * sampling product: 0.08 µs against 2.5; 8 MB: 343 µs either way).
   */
  put(src: Float32Array, at: number): void {
    this.heap.set(src, at >> 2);
  }

  /** A copy into `into`, or a fresh array. */
  take(at: number, floats: number, into?: Float32Array): Float32Array {
    const out = into ?? new Float32Array(floats);
    out.set(this.heap.subarray(at >> 2, (at >> 2) + floats));
    return out;
  }

  /**
   * Runs the job written at JOB_OFFSET on up to `participants` threads, the
   * caller being one of them (protocol: worker.ts). The caller alone can finish
   * every job; workers only take units off it.
   */
  execute(participants: number): void {
    if (this.stopped) throw new Error('wasm-gemm: the pool was destroyed');
    const { ctl, job, exports } = this;
    const P = Math.min(participants, this.threads);
    job[JOB.participants] = P;
    job[JOB.packClaim] = 0;
    job[JOB.packedPanels] = 0;
    if (job[JOB.splitColumns]) exports.packAll(JOB_OFFSET);
    if (P === 1) {
      exports.prepare(JOB_OFFSET, 0);
      exports.compute(JOB_OFFSET, 0);
      return;
    }
    Atomics.store(ctl, CONTROL.ERROR, 0);
    Atomics.store(ctl, CONTROL.OPEN, 1);
    Atomics.add(ctl, CONTROL.GENERATION, 1);
    Atomics.notify(ctl, CONTROL.GENERATION);
    let failed: unknown = null;
    try {
      exports.prepare(JOB_OFFSET, 0);
      if (!job[JOB.splitColumns] && !job[JOB.packed]) {
        const panels = job[JOB.panels];
        this.await(job, JOB.packedPanels, (v) => v >= panels || Atomics.load(ctl, CONTROL.ERROR) !== 0);
      }
      if (Atomics.load(ctl, CONTROL.ERROR) === 0) exports.compute(JOB_OFFSET, 0);
    } catch (e) {
      failed = e;
      Atomics.store(ctl, CONTROL.ERROR, 1);
    }
    Atomics.store(ctl, CONTROL.OPEN, 0);
    this.await(ctl, CONTROL.ACTIVE, (v) => v === 0);
    if (failed) throw failed;
    if (Atomics.load(ctl, CONTROL.ERROR) !== 0) throw new Error('wasm-gemm: a worker trapped while computing a product');
  }

  /** Spins briefly, then sleeps in short slices, until `done(words[word])`. */
  private await(words: Int32Array, word: number, done: (v: number) => boolean): void {
    let deadline = 0;
    waitFor(words, word, (v) => {
      if (done(v)) return true;
      deadline ||= Date.now() + HANG_MS;
      if (Date.now() > deadline) throw new Error('wasm-gemm: a worker did not finish its share of a product');
      return false;
    }, 1, CALLER_SPIN_US);
  }
}

/**
 * A product's whole layout and job, kept for the next call with the same
 * pinned B view: batch-1 sampling repeats the same few products every symbol,
 * and on cold JavaScript recomputing the layout cost more than the product.
 */
interface Plan {
  readonly p: Product;
  readonly epoch: number;
  readonly hot: boolean;
  readonly participants: number;
  readonly aLength: number;
  readonly aAt: number;
  readonly biasAt: number;
  readonly addAt: number;
  readonly outAt: number;
  readonly outFloats: number;
  readonly job: Int32Array;
}

/** A B operand packed once and reused while the array it came from stays pinned. */
interface Resident {
  readonly source: Float32Array;
  readonly at: number;
  /** First byte after its region. */
  readonly end: number;
  /** False until the first product using it has packed (an A: copied) it. */
  packed: boolean;
}

const bufferIds = new WeakMap<ArrayBufferLike, number>();
let nextBufferId = 0;
/** Identifies the bytes an array views (not the view object: callers make fresh views of the same parameters), as the B of a `kind` product with C columns. */
function rangeKey(a: Float32Array, kind: string, C: number): string {
  let id = bufferIds.get(a.buffer);
  if (id === undefined) {
    id = nextBufferId++;
    bufferIds.set(a.buffer, id);
  }
  return `${id}:${a.byteOffset}:${a.length}:${kind}:${C}`;
}

const within = (inner: Float32Array, outer: Float32Array): boolean =>
  inner.buffer === outer.buffer && inner.byteOffset >= outer.byteOffset && inner.byteOffset + inner.byteLength <= outer.byteOffset + outer.byteLength;

const round = (n: number, to: number): number => Math.ceil(n / to) * to;

/** How many arguments a product takes (nt: a, w, bias[, add]; nn: a, b[, add]; tn: a, x). */
function argumentCount(p: Product): number {
  return p.kind === 'nt' ? 3 + (p.add ? 1 : 0) : p.kind === 'nn' ? 2 + (p.add ? 1 : 0) : 2;
}

/** Length of argument i of a `kind` product (nt: a, w, bias, add; nn: a, b, add; tn: a, x). */
function operandSize(kind: Product['kind'], i: number, M: number, N: number, K: number): number {
  if (i === 1) return kind === 'tn' ? M * K : N * K;
  if (i === 0) return kind === 'nt' ? M * K : M * N;
  if (kind === 'nt') return i === 2 ? N : M * N;
  return M * K;
}
/** Bytes for `floats`, 64-byte aligned with 64 bytes of slack. */
const span = (floats: number): number => round(floats * 4 + 64, 64);

/**
 * Matrix products of the three kernel-sources.ts Product kinds, on WebAssembly
 * SIMD, split by output rows over a shared worker pool:
 *   nt: out[M,N] = a[M,K]·w[N,K]ᵀ + bias[N] (+ add[M,N]);  args (a, w, bias[, add])
 *   nn: out[M,K] = a[M,N]·b[N,K] (+ add[M,K]);               args (a, b[, add])
 *   tn: out[N,K] = a[M,N]ᵀ·x[M,K];                           args (a, x)
 * Every output is accumulated in the same order whatever the thread count, so
 * results do not depend on it.
 */
export class WasmGemm {
  private destroyed = false;
  private readonly pins: Float32Array[] = [];
  /** Plans by B view (a view object the caller keeps, such as a cached parameter view). */
  private readonly plans = new WeakMap<Float32Array, Plan>();

  private constructor(
    private readonly pool: Pool,
    private readonly threadedFromMacs: number,
    private readonly thinThreadedFromMacs: number,
    private readonly rowThreadedFromMacs: number,
  ) {}

  /**
   * `threads` participants in all (the caller included), clamped to 1..MAX_THREADS.
   * `threadedFromMacs` (for measurements) overrides THREADED_FROM_MACS.
   */
  static async create(
    threads: number = Math.min(availableParallelism(), MAX_THREADS),
    options: { threadedFromMacs?: number; thinThreadedFromMacs?: number; rowThreadedFromMacs?: number } = {},
  ): Promise<WasmGemm> {
    const n = Math.max(1, Math.min(MAX_THREADS, Math.floor(threads)));
    return new WasmGemm(
      await Pool.acquire(n),
      options.threadedFromMacs ?? THREADED_FROM_MACS,
      options.thinThreadedFromMacs ?? THIN_THREADED_FROM_MACS,
      options.rowThreadedFromMacs ?? ROW_THREADED_FROM_MACS,
    );
  }

  get threads(): number {
    return this.pool.threads;
  }

  /** Bytes of the shared memory (its high-water mark: it grows, never shrinks). */
  get memoryBytes(): number {
    return this.pool.memory.buffer.byteLength;
  }

  /**
   * The caller promises that `a`'s contents stay as they are until `unpin(a)`.
   * Meanwhile a product whose B operand (w for nt, b for nn) lies inside `a`
   * keeps that operand packed in wasm memory, skipping its copy-in and packing
   * on every later call: W_hh across a window's timesteps, all weights while
   * sampling.
   */
  pin(a: Float32Array): void {
    this.pins.push(a);
    this.pool.pinDelta(1);
  }

  private isPinned(a: Float32Array): boolean {
    for (let i = 0; i < this.pins.length; i++) if (within(a, this.pins[i])) return true;
    return false;
  }

  unpin(a: Float32Array): void {
    const i = this.pins.indexOf(a);
    if (i >= 0) {
      this.pins.splice(i, 1);
      this.pool.pinDelta(-1);
    }
    const pool = this.pool;
    let top = DATA_OFFSET;
    for (const [key, r] of pool.resident) {
      if (!this.isPinned(r.source)) {
        pool.resident.delete(key);
        pool.epoch++;
      } else top = Math.max(top, r.end);
    }
    // the space of released operands above the last kept one is free again
    if (top !== pool.residentTop) {
      pool.residentTop = top;
      pool.epoch++;
    }
  }

  run(p: Product, args: readonly Float32Array[], into?: Float32Array): Promise<Float32Array> {
    try {
      return Promise.resolve(this.runSync(p, args, into));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** The same product, computed before returning. */
  runSync(p: Product, args: readonly Float32Array[], into?: Float32Array): Float32Array {
    if (this.destroyed) throw new Error('wasm-gemm: run after destroy');
    const plan = args.length > 1 ? this.plans.get(args[1]) : undefined;
    if (plan !== undefined && this.planHolds(plan, p, args, into)) return this.runPlan(plan, args, into);
    const { kind, M, N, K, add } = p;
    const outLength = kind === 'nt' ? M * N : kind === 'nn' ? M * K : N * K;
    if (into && into.length !== outLength) throw new TypeError(`wasm-gemm ${kind} ${M}×${N}×${K}: the output array should hold ${outLength} floats, not ${into.length}`);
    const want = argumentCount(p);
    if (args.length !== want) throw new TypeError(`wasm-gemm ${kind}: expected ${want} arguments, got ${args.length}`);
    // Batch-1 sampling calls this ~5 times a symbol: no closures or arrays on the way.
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      const size = operandSize(kind, i, M, N, K);
      if (!(a instanceof Float32Array) || a.length !== size) {
        throw new TypeError(`wasm-gemm ${kind} ${M}×${N}×${K}: argument ${i} should be a Float32Array of ${size}, got ${a?.length}`);
      }
    }

    // Generic view (module.ts): out[R×C] = A[R×D]·B[D×C]
    const R = kind === 'tn' ? N : M;
    const C = kind === 'nt' ? N : K;
    const D = kind === 'nt' ? K : kind === 'nn' ? N : M;
    const { MR, NR } = SHAPE;
    const cPad = round(C, NR);
    const rPad = round(R, MR);
    const transposed = kind === 'nt';
    const hasAdd = kind !== 'tn' && add;
    const epilogue = cPad !== C || hasAdd;

    const macs = R * C * D;
    // Thin products (fewer rows than columns: per-timestep and batch-1 ones) split
    // B's panels, so each thread streams only its part of the weights.
    const splitColumns = R < C;
    const panels = cPad / NR;
    const rowBlocks = Math.ceil(R / SHAPE.MC);
    const units = splitColumns ? panels : rowBlocks;
    const threadedFrom = R === 1 ? this.rowThreadedFromMacs : splitColumns && this.pool.hot ? this.thinThreadedFromMacs : this.threadedFromMacs;
    const P = macs < threadedFrom ? 1 : Math.min(this.pool.threads, units);

    const pool = this.pool;
    // tn's B is activations, never pinned weights; nt's and nn's B is a weight matrix.
    const pinned = kind !== 'tn' && this.isPinned(args[1]);
    const key = pinned ? rangeKey(args[1], kind, C) : '';
    let resident = pinned ? pool.resident.get(key) : undefined;
    const packedFloats = cPad * Math.max(D, 1);
    if (pinned && !resident) {
      resident = { source: args[1], at: pool.residentTop, end: pool.residentTop + span(packedFloats), packed: false };
      pool.residentTop = resident.end;
      pool.resident.set(key, resident);
      pool.epoch++;
    }
    const alreadyPacked = resident?.packed === true;
    // An A inside a pinned array (backward's dPre, read by three products in a row) is copied in
    // once, up to RESIDENT_A_MAX_BYTES: past that the memory it holds is worth more than the copies.
    const aPinned = args[0].byteLength <= RESIDENT_A_MAX_BYTES && this.isPinned(args[0]);
    const aKey = aPinned ? rangeKey(args[0], 'A', 0) : '';
    let residentA = aPinned ? pool.resident.get(aKey) : undefined;
    if (aPinned && !residentA) {
      residentA = { source: args[0], at: pool.residentTop, end: pool.residentTop + span(args[0].length), packed: false };
      pool.residentTop = residentA.end;
      pool.resident.set(aKey, residentA);
      pool.epoch++;
    }

    // Regions laid out one after another from residentTop.
    let at = pool.residentTop;
    const aAt = residentA ? residentA.at : at;
    if (!residentA) at += span(args[0].length);
    const bAt = alreadyPacked ? 0 : at;
    if (!alreadyPacked) at += span(args[1].length);
    const biasAt = kind === 'nt' ? at : 0;
    if (kind === 'nt') at += span(cPad);
    const addAt = hasAdd ? at : 0;
    if (hasAdd) at += span(R * C);
    const packedAt = resident ? resident.at : at;
    if (!resident) at += span(packedFloats);
    const cAt = at;
    at += span(rPad * cPad);
    const aPackedAt = splitColumns ? at : 0;
    if (splitColumns) at += span(rPad * Math.max(D, 1));
    const outAt = cPad !== C ? at : cAt;
    if (cPad !== C) at += span(R * C);
    const sb = scratchBytes(SHAPE);
    const scratchAt = at;
    at += sb * P;
    pool.reserve(at);

    if (!residentA?.packed) pool.put(args[0], aAt);
    if (!alreadyPacked) pool.put(args[1], bAt);
    if (kind === 'nt') pool.put(args[2], biasAt);
    if (hasAdd) pool.put(args[kind === 'nt' ? 3 : 2], addAt);

    const job = pool.job;
    job[JOB.R] = R;
    job[JOB.C] = C;
    job[JOB.D] = D;
    job[JOB.a] = aAt;
    // A(i,p): nt a[i,p] (row K); nn a[i,p] (row N); tn a[p,i] (row N)
    job[JOB.rsA] = kind === 'tn' ? 4 : D * 4;
    job[JOB.csA] = kind === 'tn' ? R * 4 : 4;
    job[JOB.b] = bAt;
    // B(p,j): nt w[j,p] (row K = D); nn b[p,j] and tn x[p,j] (row K = C)
    job[JOB.ldb] = transposed ? D * 4 : C * 4;
    job[JOB.bTransposed] = transposed ? 1 : 0;
    job[JOB.bias] = biasAt;
    job[JOB.add] = addAt;
    job[JOB.packedB] = packedAt;
    job[JOB.cPadded] = cAt;
    job[JOB.out] = outAt;
    job[JOB.cPad] = cPad;
    job[JOB.scratch] = scratchAt;
    job[JOB.scratchBytes] = sb;
    job[JOB.epilogue] = epilogue ? 1 : 0;
    job[JOB.packed] = alreadyPacked ? 1 : 0;
    job[JOB.splitColumns] = splitColumns ? 1 : 0;
    job[JOB.aPacked] = aPackedAt;
    job[JOB.panels] = panels;
    // about eight units per participant, in whole pairs of panels (kernelRow takes two):
    // few claims, and little left for the caller to wait on at the end
    const chunk = Math.max(2, 2 * Math.floor(panels / (16 * P)));
    job[JOB.chunk] = chunk;
    const claimUnits = splitColumns ? Math.ceil(panels / chunk) : rowBlocks;
    // The claim word holds both ends in 16 bits each.
    if (claimUnits > 0xffff) throw new RangeError(`wasm-gemm ${kind} ${M}×${N}×${K}: more than ${0xffff * SHAPE.MC} rows`);
    job[JOB.claim] = claimUnits << 16;
    // Only a B already packed in place, and an A copied in every call, make a layout worth keeping.
    if (alreadyPacked && !residentA) {
      this.plans.set(args[1], {
        p, epoch: pool.epoch, hot: pool.hot, participants: P, aLength: args[0].length,
        aAt, biasAt, addAt, outAt, outFloats: R * C, job: job.slice(),
      });
    }

    pool.execute(P);
    if (resident) resident.packed = true;
    if (residentA) residentA.packed = true;
    return pool.take(outAt, R * C, into);
  }

  /** The same product as when `plan` was made, on the same resident layout and thread choice. */
  private planHolds(plan: Plan, p: Product, args: readonly Float32Array[], into: Float32Array | undefined): boolean {
    const pool = this.pool;
    if (plan.p !== p || plan.epoch !== pool.epoch || plan.hot !== pool.hot || plan.aLength !== args[0].length) return false;
    if (into !== undefined && into.length !== plan.outFloats) return false;
    if (args.length !== argumentCount(p)) return false;
    for (let i = 2; i < args.length; i++) if (args[i].length !== operandSize(p.kind, i, p.M, p.N, p.K)) return false;
    return true;
  }

  private runPlan(plan: Plan, args: readonly Float32Array[], into: Float32Array | undefined): Float32Array {
    const pool = this.pool;
    pool.put(args[0], plan.aAt);
    if (plan.p.kind === 'nt') pool.put(args[2], plan.biasAt);
    if (plan.addAt !== 0) pool.put(args[args.length - 1], plan.addAt);
    pool.job.set(plan.job);
    pool.execute(plan.participants);
    return pool.take(plan.outAt, plan.outFloats, into);
  }

  /** Releases this handle; the pool stops when its last handle is destroyed. Idempotent. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.pool.release();
  }
}
