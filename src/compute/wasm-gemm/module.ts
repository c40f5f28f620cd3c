// Generates the GEMM WebAssembly module (design and numbers: src/compute/README.md,
// "Matrix products on CPU (wasm-gemm)").
//
// One generic product, C[R×C] = init + A·B, where A(i,p) and B(p,j) are read
// through byte strides, so the three Product kinds are the same code:
//
//   nt  out[M,N] = a[M,K]·w[N,K]ᵀ + bias   R=M C=N D=K  A: rs=K·4 cs=4   B(p,j)=w[j,p]
//   nn  out[M,K] = a[M,N]·b[N,K]           R=M C=K D=N  A: rs=N·4 cs=4   B(p,j)=b[p,j]
//   tn  out[N,K] = a[M,N]ᵀ·x[M,K]          R=N C=K D=M  A: rs=4   cs=N·4 B(p,j)=x[p,j]
//
// Structure (BLIS-like). Work is split into units that the participants
// claim with an atomic counter, so nobody waits for a thread that has not
// started. Row split (the window products): `prepare` packs B's NR-column
// panels (depth-major, NR floats per depth step, zero past C; nt's transposed B
// through 4×4 shuffle transposes), claimed panel by panel; once all are packed,
// `compute` claims MC-row blocks, packs each depth block of them into MR-row
// micro-panels (zero rows past R) and runs the MR×NR register-blocked
// micro-kernel against every panel. Column split (thin products, fewer rows
// than columns: per-timestep and batch-1 ones): the caller packs the whole A
// once (`packAll`), and `compute` claims panels, packing each unless it is
// resident, so each thread streams only its part of B. The micro-kernel always
// writes whole tiles into a padded C (row stride Cpad = C rounded up to NR,
// rows rounded up to MR), so it has no edge cases; a last pass per unit
// copies the valid part out and adds `add`.
//
// Per depth step the micro-kernel does NR/4 vector loads of B, MR splat loads
// of A and MR·NR/4 f32x4 multiplies and adds. (Relaxed-SIMD's FMA, behind
// --experimental-wasm-relaxed-simd in Node 20, measured no faster for 2×16 and
// would make results depend on the machine.) Each output is accumulated in
// depth order, like the gpu.js kernels' loops (bias first, add last), and
// does not depend on how the work is split over threads.

import { FunctionBuilder, encodeModule } from './encoder.js';

export interface GemmShape {
  /** Rows of the register tile. */
  readonly MR: number;
  /** Columns of the register tile (a multiple of 4). */
  readonly NR: number;
  /** Depth block. */
  readonly KC: number;
  /** Row block packed at once per participant. */
  readonly MC: number;
  /** Depth steps per micro-kernel loop iteration. */
  readonly UNROLL: number;
}

/**
 * 2×16 measured best here (45 GFLOP/s in cache, single thread): 4×8 reached 38,
 * and anything with 12+ accumulators (3×16, 4×12, 6×8) spills in V8's register
 * allocation and drops to ~24. Unrolling the depth loop made V8 hoist every
 * load of both steps and spill accumulators, so UNROLL is 1.
 */
export const DEFAULT_SHAPE: GemmShape = { MR: 2, NR: 16, KC: 256, MC: 64, UNROLL: 1 };

/** Field indices (i32 words) of the job descriptor the exports read. */
export const JOB = {
  R: 0,
  C: 1,
  D: 2,
  a: 3,
  rsA: 4,
  csA: 5,
  b: 6,
  ldb: 7,
  bTransposed: 8,
  bias: 9,
  add: 10,
  packedB: 11,
  cPadded: 12,
  out: 13,
  cPad: 14,
  scratch: 15,
  scratchBytes: 16,
  participants: 17,
  epilogue: 18,
  /** 1: B is already packed at `packedB` (a resident operand), so nothing packs it. */
  packed: 19,
  /** 1: the units are B's panels (thin products), 0: blocks of MC rows. */
  splitColumns: 20,
  /** Column split: where packAll puts the whole packed A. */
  aPacked: 21,
  /** ceil(C / NR). */
  panels: 22,
  /**
   * Units left to compute, as front | back << 16 (set to units << 16 by the
   * caller): participant 1 claims from the back, the others from the front, so
   * with two threads each keeps computing the same part of B from call to call
   * (its half of W_hh stays in its cache across a window's timesteps).
   */
  claim: 23,
  /** Counters, zeroed by the caller per job and advanced atomically: next panel to pack, panels packed. */
  packClaim: 24,
  packedPanels: 25,
  /** Column split: panels per claimed unit (one atomic claim per panel measured ~6 µs on a batch-1 product). */
  chunk: 26,
} as const;
export const JOB_WORDS = 27;

/** Bytes of per-participant scratch: one packed A block. */
export function scratchBytes(shape: GemmShape): number {
  return shape.MC * shape.KC * 4 + 64;
}

export interface GemmExports {
  /** Row split: packs B's panels as long as unclaimed ones are left (compute needs `packedPanels` = `panels` first). */
  prepare(job: number, t: number): void;
  /** Column split, before anyone computes: packs the whole A once, for every participant. */
  packAll(job: number): void;
  /** Computes units as long as unclaimed ones are left, including their copy-out/add pass; `t` picks the scratch. */
  compute(job: number, t: number): void;
}

export function buildGemmModule(shape: GemmShape, maxPages: number): Uint8Array {
  const { MR, NR, KC, MC, UNROLL } = shape;
  if (NR % 4 !== 0) throw new Error('NR must be a multiple of 4');
  const NV = NR / 4;

  // ---- micro-kernel: kernel(ap, bp, kc, cp, ldc, init, biasp) -----------------
  // A and B both packed: per depth step MR floats of A, NR floats of B.
  // init 0: start from zero, 1: from the bias vector at biasp, 2: from C.
  const k = new FunctionBuilder('kernel', ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'], [], false);
  {
    const [ap, bp, kc, cp, ldc, init, biasp] = [0, 1, 2, 3, 4, 5, 6];
    const acc: number[][] = [];
    for (let r = 0; r < MR; r++) acc.push(Array.from({ length: NV }, () => k.local('v128')));
    const bv = Array.from({ length: NV }, () => k.local('v128'));
    const av = k.local('v128');
    const p = k.local('i32');
    const row = k.local('i32');
    const kcMain = k.local('i32');

    // init
    k.localGet(init).i32Const(2).i32Eq().if();
    for (let r = 0; r < MR; r++) {
      if (r === 0) k.localGet(cp).localSet(row);
      else k.localGet(row).localGet(ldc).i32Add().localSet(row);
      for (let c = 0; c < NV; c++) k.localGet(row).v128Load(c * 16).localSet(acc[r][c]);
    }
    k.else();
    k.localGet(init).if();
    for (let c = 0; c < NV; c++) k.localGet(biasp).v128Load(c * 16).localSet(acc[0][c]);
    k.else();
    for (let c = 0; c < NV; c++) k.v128Const0().localSet(acc[0][c]);
    k.end();
    for (let r = 1; r < MR; r++) for (let c = 0; c < NV; c++) k.localGet(acc[0][c]).localSet(acc[r][c]);
    k.end();

    const step = (u: number): void => {
      for (let c = 0; c < NV; c++) k.localGet(bp).v128Load((u * NR + c * 4) * 4).localSet(bv[c]);
      for (let r = 0; r < MR; r++) {
        k.localGet(ap).v128Load32Splat((u * MR + r) * 4).localSet(av);
        for (let c = 0; c < NV; c++) {
          k.localGet(acc[r][c]).localGet(av).localGet(bv[c]).f32x4Mul().f32x4Add().localSet(acc[r][c]);
        }
      }
    };

    // main loop, UNROLL steps per iteration
    k.localGet(kc).i32Const(-UNROLL).i32And().localSet(kcMain);
    k.i32Const(0).localSet(p);
    k.block().loop();
    k.localGet(p).localGet(kcMain).i32GeS().brIf(1);
    for (let u = 0; u < UNROLL; u++) step(u);
    k.localGet(ap).i32Const(UNROLL * MR * 4).i32Add().localSet(ap);
    k.localGet(bp).i32Const(UNROLL * NR * 4).i32Add().localSet(bp);
    k.localGet(p).i32Const(UNROLL).i32Add().localSet(p);
    k.br(0).end().end();
    // remainder
    k.block().loop();
    k.localGet(p).localGet(kc).i32GeS().brIf(1);
    step(0);
    k.localGet(ap).i32Const(MR * 4).i32Add().localSet(ap);
    k.localGet(bp).i32Const(NR * 4).i32Add().localSet(bp);
    k.localGet(p).i32Const(1).i32Add().localSet(p);
    k.br(0).end().end();

    // store
    for (let r = 0; r < MR; r++) {
      if (r === 0) k.localGet(cp).localSet(row);
      else k.localGet(row).localGet(ldc).i32Add().localSet(row);
      for (let c = 0; c < NV; c++) k.localGet(row).localGet(acc[r][c]).v128Store(c * 16);
    }
  }

  // ---- kernelRow(ap, bp, kc, cp, panelBytes, init, biasp): row 0 of a micro-panel against two panels ----
  // A batch-1 product leaves MR − 1 rows of every tile empty, and one row's NV
  // accumulators wait on their own adds (the chain is the add latency long).
  // Two adjacent panels (the second panelBytes after the first) give 2·NV
  // independent accumulators for the one row; each output still adds its
  // products in depth order, so the results are the kernel's bit for bit.
  const kr = new FunctionBuilder('kernelRow', ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'], [], false);
  {
    const [ap, bp, kc, cp, panelBytes, init, biasp] = [0, 1, 2, 3, 4, 5, 6];
    const acc = Array.from({ length: 2 * NV }, () => kr.local('v128'));
    const av = kr.local('v128');
    const bp2 = kr.local('i32');
    const p = kr.local('i32');
    const at = (c: number): number => (c < NV ? c * 16 : NR * 4 + (c - NV) * 16);
    kr.localGet(bp).localGet(panelBytes).i32Add().localSet(bp2);
    kr.localGet(init).i32Const(2).i32Eq().if();
    for (let c = 0; c < 2 * NV; c++) kr.localGet(cp).v128Load(at(c)).localSet(acc[c]);
    kr.else();
    kr.localGet(init).if();
    for (let c = 0; c < 2 * NV; c++) kr.localGet(biasp).v128Load(at(c)).localSet(acc[c]);
    kr.else();
    for (let c = 0; c < 2 * NV; c++) kr.v128Const0().localSet(acc[c]);
    kr.end();
    kr.end();
    kr.i32Const(0).localSet(p);
    kr.block().loop();
    kr.localGet(p).localGet(kc).i32GeS().brIf(1);
    kr.localGet(ap).v128Load32Splat().localSet(av);
    for (let c = 0; c < 2 * NV; c++) {
      kr.localGet(acc[c]).localGet(av);
      kr.localGet(c < NV ? bp : bp2).v128Load((c % NV) * 16);
      kr.f32x4Mul().f32x4Add().localSet(acc[c]);
    }
    kr.localGet(ap).i32Const(MR * 4).i32Add().localSet(ap);
    kr.localGet(bp).i32Const(NR * 4).i32Add().localSet(bp);
    kr.localGet(bp2).i32Const(NR * 4).i32Add().localSet(bp2);
    kr.localGet(p).i32Const(1).i32Add().localSet(p);
    kr.br(0).end().end();
    for (let c = 0; c < 2 * NV; c++) kr.localGet(cp).localGet(acc[c]).v128Store(at(c));
  }

  // ---- packA(dst, src, rsA, csA, mc, kc): MR-row micro-panels, zero rows past mc --------
  const pa = new FunctionBuilder('packA', ['i32', 'i32', 'i32', 'i32', 'i32', 'i32'], [], false);
  {
    const [dst, src, rsA, csA, mc, kc] = [0, 1, 2, 3, 4, 5];
    const ir = pa.local('i32');
    const p = pa.local('i32');
    const s = pa.local('i32');
    const d = pa.local('i32');
    pa.i32Const(0).localSet(ir);
    pa.block().loop();
    pa.localGet(ir).localGet(mc).i32GeS().brIf(1);
    // Fast path: rows contiguous (tn) and a whole micro-panel: one 2- or 4-float move per depth step.
    const fast = MR === 4 || MR === 2;
    if (fast) {
      pa.localGet(rsA).i32Const(4).i32Eq().localGet(ir).i32Const(MR).i32Add().localGet(mc).i32LeS().i32And().if();
      pa.localGet(src).localGet(ir).i32Const(2).i32Shl().i32Add().localSet(s);
      pa.localGet(dst).localSet(d);
      pa.i32Const(0).localSet(p);
      pa.block().loop();
      pa.localGet(p).localGet(kc).i32GeS().brIf(1);
      if (MR === 4) pa.localGet(d).localGet(s).v128Load().v128Store();
      else pa.localGet(d).localGet(s).i64Load().i64Store();
      pa.localGet(s).localGet(csA).i32Add().localSet(s);
      pa.localGet(d).i32Const(MR * 4).i32Add().localSet(d);
      pa.localGet(p).i32Const(1).i32Add().localSet(p);
      pa.br(0).end().end();
      pa.else();
    }
    for (let r = 0; r < MR; r++) {
      pa.localGet(dst).i32Const(r * 4).i32Add().localSet(d);
      pa.i32Const(0).localSet(p);
      pa.localGet(ir).i32Const(r).i32Add().localGet(mc).i32LtS().if();
      pa.localGet(src).localGet(ir).i32Const(r).i32Add().localGet(rsA).i32Mul().i32Add().localSet(s);
      pa.block().loop();
      pa.localGet(p).localGet(kc).i32GeS().brIf(1);
      pa.localGet(d).localGet(s).f32Load().f32Store();
      pa.localGet(s).localGet(csA).i32Add().localSet(s);
      pa.localGet(d).i32Const(MR * 4).i32Add().localSet(d);
      pa.localGet(p).i32Const(1).i32Add().localSet(p);
      pa.br(0).end().end();
      pa.else();
      pa.block().loop();
      pa.localGet(p).localGet(kc).i32GeS().brIf(1);
      pa.localGet(d).f32Const0().f32Store();
      pa.localGet(d).i32Const(MR * 4).i32Add().localSet(d);
      pa.localGet(p).i32Const(1).i32Add().localSet(p);
      pa.br(0).end().end();
      pa.end();
    }
    if (fast) pa.end();
    // next micro-panel: dst += MR·kc floats
    pa.localGet(dst).localGet(kc).i32Const(MR * 4).i32Mul().i32Add().localSet(dst);
    pa.localGet(ir).i32Const(MR).i32Add().localSet(ir);
    pa.br(0).end().end();
  }

  // ---- packPanel(dst, src, rowStride, colStride, depth, cols): one NR-wide panel ----------
  // dst[p·NR + c] = src[p·rowStride + c·colStride] for c < cols, 0 for cols ≤ c < NR.
  const pp = new FunctionBuilder('packPanel', ['i32', 'i32', 'i32', 'i32', 'i32', 'i32'], [], false);
  {
    const [dst, src, rowStride, colStride, depth, cols] = [0, 1, 2, 3, 4, 5];
    const c = pp.local('i32');
    const p = pp.local('i32');
    const s = pp.local('i32');
    const d = pp.local('i32');
    // Fast path for a transposed B (nt) and a whole panel: 4×4 blocks, four loads
    // along depth from four w rows, transposed with shuffles, four stores.
    {
      const sq = [pp.local('i32'), pp.local('i32'), pp.local('i32'), pp.local('i32')];
      const r = [pp.local('v128'), pp.local('v128'), pp.local('v128'), pp.local('v128')];
      const tq = [pp.local('v128'), pp.local('v128'), pp.local('v128'), pp.local('v128')];
      pp.localGet(rowStride).i32Const(4).i32Eq().localGet(cols).i32Const(NR).i32GeS().i32And().if();
      for (let c4 = 0; c4 < NV; c4++) {
        for (let q = 0; q < 4; q++) pp.localGet(src).i32Const(c4 * 4 + q).localGet(colStride).i32Mul().i32Add().localSet(sq[q]);
        pp.localGet(dst).i32Const(c4 * 16).i32Add().localSet(d);
        pp.i32Const(0).localSet(p);
        pp.block().loop();
        pp.localGet(p).i32Const(4).i32Add().localGet(depth).i32GtS().brIf(1);
        for (let q = 0; q < 4; q++) pp.localGet(sq[q]).v128Load().localSet(r[q]);
        pp.localGet(r[0]).localGet(r[1]).f32x4Shuffle([0, 4, 1, 5]).localSet(tq[0]);
        pp.localGet(r[2]).localGet(r[3]).f32x4Shuffle([0, 4, 1, 5]).localSet(tq[1]);
        pp.localGet(r[0]).localGet(r[1]).f32x4Shuffle([2, 6, 3, 7]).localSet(tq[2]);
        pp.localGet(r[2]).localGet(r[3]).f32x4Shuffle([2, 6, 3, 7]).localSet(tq[3]);
        pp.localGet(d).localGet(tq[0]).localGet(tq[1]).f32x4Shuffle([0, 1, 4, 5]).v128Store(0);
        pp.localGet(d).localGet(tq[0]).localGet(tq[1]).f32x4Shuffle([2, 3, 6, 7]).v128Store(NR * 4);
        pp.localGet(d).localGet(tq[2]).localGet(tq[3]).f32x4Shuffle([0, 1, 4, 5]).v128Store(2 * NR * 4);
        pp.localGet(d).localGet(tq[2]).localGet(tq[3]).f32x4Shuffle([2, 3, 6, 7]).v128Store(3 * NR * 4);
        for (let q = 0; q < 4; q++) pp.localGet(sq[q]).i32Const(16).i32Add().localSet(sq[q]);
        pp.localGet(d).i32Const(4 * NR * 4).i32Add().localSet(d);
        pp.localGet(p).i32Const(4).i32Add().localSet(p);
        pp.br(0).end().end();
        // depth remainder, one element per column
        pp.block().loop();
        pp.localGet(p).localGet(depth).i32GeS().brIf(1);
        for (let q = 0; q < 4; q++) {
          pp.localGet(d).localGet(sq[q]).f32Load().f32Store(q * 4);
          pp.localGet(sq[q]).i32Const(4).i32Add().localSet(sq[q]);
        }
        pp.localGet(d).i32Const(NR * 4).i32Add().localSet(d);
        pp.localGet(p).i32Const(1).i32Add().localSet(p);
        pp.br(0).end().end();
      }
      pp.return();
      pp.end();
    }
    // Fast path: columns contiguous (nn, tn) and a whole panel: NR/4 vectors per depth step.
    pp.localGet(colStride).i32Const(4).i32Eq().localGet(cols).i32Const(NR).i32GeS().i32And().if();
    pp.localGet(src).localSet(s).localGet(dst).localSet(d);
    pp.i32Const(0).localSet(p);
    pp.block().loop();
    pp.localGet(p).localGet(depth).i32GeS().brIf(1);
    for (let v = 0; v < NV; v++) pp.localGet(d).localGet(s).v128Load(v * 16).v128Store(v * 16);
    pp.localGet(s).localGet(rowStride).i32Add().localSet(s);
    pp.localGet(d).i32Const(NR * 4).i32Add().localSet(d);
    pp.localGet(p).i32Const(1).i32Add().localSet(p);
    pp.br(0).end().end();
    pp.return();
    pp.end();
    pp.i32Const(0).localSet(c);
    pp.block().loop();
    pp.localGet(c).i32Const(NR).i32GeS().brIf(1);
    pp.localGet(dst).localGet(c).i32Const(2).i32Shl().i32Add().localSet(d);
    pp.i32Const(0).localSet(p);
    pp.localGet(c).localGet(cols).i32LtS().if();
    pp.localGet(src).localGet(c).localGet(colStride).i32Mul().i32Add().localSet(s);
    pp.block().loop();
    pp.localGet(p).localGet(depth).i32GeS().brIf(1);
    pp.localGet(d).localGet(s).f32Load().f32Store();
    pp.localGet(s).localGet(rowStride).i32Add().localSet(s);
    pp.localGet(d).i32Const(NR * 4).i32Add().localSet(d);
    pp.localGet(p).i32Const(1).i32Add().localSet(p);
    pp.br(0).end().end();
    pp.else();
    pp.block().loop();
    pp.localGet(p).localGet(depth).i32GeS().brIf(1);
    pp.localGet(d).f32Const0().f32Store();
    pp.localGet(d).i32Const(NR * 4).i32Add().localSet(d);
    pp.localGet(p).i32Const(1).i32Add().localSet(p);
    pp.br(0).end().end();
    pp.end();
    pp.localGet(c).i32Const(1).i32Add().localSet(c);
    pp.br(0).end().end();
  }

  const KERNEL = 0;
  const PACK_A = 1;
  const PACK_PANEL = 2;
  const COPY_OUT = 3;
  const KERNEL_ROW = 4;
  const CLAIM_UNIT = 5;

  const field = (f: FunctionBuilder, job: number, i: number): FunctionBuilder => f.localGet(job).i32Load(i * 4);
  /** Claims the next unit of counter `i` (atomic fetch-and-add), leaving its index on the stack. */
  const claim = (f: FunctionBuilder, job: number, i: number): FunctionBuilder => f.localGet(job).i32Const(1).i32AtomicRmwAdd(i * 4);
  /** B(p,j) is at b + p·rowStride + j·colStride: nt w[j,p] (4, ldb), nn/tn (ldb, 4). */
  const bStrides = (f: FunctionBuilder, job: number, rowStride: number, colStride: number): void => {
    field(f, job, JOB.bTransposed).if();
    f.i32Const(4).localSet(rowStride);
    field(f, job, JOB.ldb).localSet(colStride);
    f.else();
    field(f, job, JOB.ldb).localSet(rowStride);
    f.i32Const(4).localSet(colStride);
    f.end();
  };
  /** packPanel(packedB + jp·D·NR·4, b + jp·NR·colStride, rowStride, colStride, D, C − jp·NR) */
  const packPanelJp = (f: FunctionBuilder, job: number, jp: number, D: number, C: number, rowStride: number, colStride: number): void => {
    field(f, job, JOB.packedB).localGet(jp).localGet(D).i32Mul().i32Const(NR * 4).i32Mul().i32Add();
    field(f, job, JOB.b).localGet(jp).i32Const(NR).i32Mul().localGet(colStride).i32Mul().i32Add();
    f.localGet(rowStride).localGet(colStride).localGet(D);
    f.localGet(C).localGet(jp).i32Const(NR).i32Mul().i32Sub();
    f.call(PACK_PANEL);
  };

  // ---- claimUnit(address, fromBack) → the claimed unit, or −1 when none is left -----------
  const cu = new FunctionBuilder('claimUnit', ['i32', 'i32'], ['i32'], false);
  {
    const [address, fromBack] = [0, 1];
    const [v, f, b] = [cu.local('i32'), cu.local('i32'), cu.local('i32')];
    cu.block().loop();
    cu.localGet(address).i32AtomicLoad().localSet(v);
    cu.localGet(v).i32Const(0xffff).i32And().localSet(f);
    cu.localGet(v).i32Const(16).i32ShrU().localSet(b);
    cu.localGet(f).localGet(b).i32GeS().if();
    cu.i32Const(-1).return();
    cu.end();
    cu.localGet(fromBack).if();
    cu.localGet(address).localGet(v).localGet(v).i32Const(0x10000).i32Sub().i32AtomicCmpxchg();
    cu.localGet(v).i32Eq().if();
    cu.localGet(b).i32Const(1).i32Sub().return();
    cu.end();
    cu.else();
    cu.localGet(address).localGet(v).localGet(v).i32Const(1).i32Add().i32AtomicCmpxchg();
    cu.localGet(v).i32Eq().if();
    cu.localGet(f).return();
    cu.end();
    cu.end();
    cu.br(0).end().end();
    cu.i32Const(-1);
  }

  // ---- copyOut(cP, out, add, ldcBytes, cBytes, r0, r1, j0, j1) ----------------------------
  // out rows [r0, r1), bytes [j0, j1) of each row = padded C (+ add), for an edge or an `add`.
  const co = new FunctionBuilder('copyOut', Array<'i32'>(9).fill('i32'), [], false);
  {
    const [cP, out, add, ldcBytes, cBytes, r0, r1, j0, j1] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
    const [i, src, dst, addp, j] = [co.local('i32'), co.local('i32'), co.local('i32'), co.local('i32'), co.local('i32')];
    const rows = (withAdd: boolean): void => {
      co.localGet(r0).localSet(i);
      co.block().loop();
      co.localGet(i).localGet(r1).i32GeS().brIf(1);
      co.localGet(cP).localGet(i).localGet(ldcBytes).i32Mul().i32Add().localSet(src);
      co.localGet(out).localGet(i).localGet(cBytes).i32Mul().i32Add().localSet(dst);
      co.localGet(add).localGet(i).localGet(cBytes).i32Mul().i32Add().localSet(addp);
      co.localGet(j0).localSet(j);
      // vector part
      co.block().loop();
      co.localGet(j).i32Const(16).i32Add().localGet(j1).i32GtS().brIf(1);
      co.localGet(dst).localGet(j).i32Add();
      co.localGet(src).localGet(j).i32Add().v128Load();
      if (withAdd) co.localGet(addp).localGet(j).i32Add().v128Load().f32x4Add();
      co.v128Store();
      co.localGet(j).i32Const(16).i32Add().localSet(j);
      co.br(0).end().end();
      // scalar tail
      co.block().loop();
      co.localGet(j).localGet(j1).i32GeS().brIf(1);
      co.localGet(dst).localGet(j).i32Add();
      co.localGet(src).localGet(j).i32Add().f32Load();
      if (withAdd) co.localGet(addp).localGet(j).i32Add().f32Load().f32Add();
      co.f32Store();
      co.localGet(j).i32Const(4).i32Add().localSet(j);
      co.br(0).end().end();
      co.localGet(i).i32Const(1).i32Add().localSet(i);
      co.br(0).end().end();
    };
    co.localGet(add).if();
    rows(true);
    co.else();
    rows(false);
    co.end();
  }

  // ---- prepare(job, t): row-split products pack B's panels, claimed one at a time ---------------
  // Panel jp holds D×NR floats: depth-major, NR consecutive columns, zero past C.
  // The caller and workers then wait until `packedPanels` reaches `panels`.
  const prep = new FunctionBuilder('prepare', ['i32', 'i32'], [], true);
  {
    const [job] = [0, 1];
    const [jp, C, D, rowStride, colStride] = [prep.local('i32'), prep.local('i32'), prep.local('i32'), prep.local('i32'), prep.local('i32')];
    field(prep, job, JOB.packed).if().return().end();
    field(prep, job, JOB.splitColumns).if().return().end();
    field(prep, job, JOB.C).localSet(C);
    field(prep, job, JOB.D).localSet(D);
    bStrides(prep, job, rowStride, colStride);
    prep.block().loop();
    claim(prep, job, JOB.packClaim).localTee(jp);
    field(prep, job, JOB.panels).i32GeS().brIf(1);
    packPanelJp(prep, job, jp, D, C, rowStride, colStride);
    claim(prep, job, JOB.packedPanels).drop();
    prep.br(0).end().end();
  }

  // ---- packAll(job): a column-split product's whole A, shared by every participant ---------
  // Depth block pc (rPad × kc floats in MR-row micro-panels) at aPacked + pc·rPad·4.
  const pall = new FunctionBuilder('packAll', ['i32'], [], true);
  {
    const [job] = [0];
    const [R, D, pc, kc, rPad] = [pall.local('i32'), pall.local('i32'), pall.local('i32'), pall.local('i32'), pall.local('i32')];
    field(pall, job, JOB.R).localSet(R);
    field(pall, job, JOB.D).localSet(D);
    pall.localGet(R).i32Const(MR - 1).i32Add().i32Const(MR).i32DivU().i32Const(MR).i32Mul().localSet(rPad);
    pall.i32Const(0).localSet(pc);
    pall.block().loop();
    pall.localGet(pc).localGet(D).i32GeS().brIf(1);
    pall.localGet(D).localGet(pc).i32Sub().localSet(kc);
    pall.localGet(kc).i32Const(KC).i32GtS().if().i32Const(KC).localSet(kc).end();
    // packA(aPacked + pc·rPad·4, a + pc·csA, rsA, csA, R, kc)
    field(pall, job, JOB.aPacked).localGet(pc).localGet(rPad).i32Mul().i32Const(2).i32Shl().i32Add();
    field(pall, job, JOB.a).localGet(pc);
    field(pall, job, JOB.csA).i32Mul().i32Add();
    field(pall, job, JOB.rsA);
    field(pall, job, JOB.csA);
    pall.localGet(R).localGet(kc).call(PACK_A);
    pall.localGet(pc).i32Const(KC).i32Add().localSet(pc);
    pall.br(0).end().end();
  }

  // ---- compute(job, t) --------------------------------------------------------------
  // Work is claimed unit by unit, so a participant that starts late (a worker
  // woken late or descheduled) just finds less left, and the caller never waits
  // for one that has not started. Row split: a unit is MC rows, packed per depth
  // block into this participant's scratch. Column split: a unit is a panel
  // chunk (each panel packed here unless resident) against the shared packed A.
  const cmp = new FunctionBuilder('compute', ['i32', 'i32'], [], true);
  {
    const [job, t] = [0, 1];
    const L = (): number => cmp.local('i32');
    const [R, C, D, a, rsA, csA, bias, add, packedB, cP, out, cPad, panels] = Array.from({ length: 13 }, L);
    const [ap, pc, kc, init, ic, mc, jp, bp, ir, cBytes, ldcBytes, epi, rowStride, colStride, rPad, j1, chunk, jEndPanel, pair, jNext] = Array.from({ length: 20 }, L);
    const loadField = (local: number, f: number): void => void field(cmp, job, f).localSet(local);
    loadField(R, JOB.R);
    loadField(C, JOB.C);
    loadField(D, JOB.D);
    loadField(a, JOB.a);
    loadField(rsA, JOB.rsA);
    loadField(csA, JOB.csA);
    loadField(bias, JOB.bias);
    loadField(add, JOB.add);
    loadField(packedB, JOB.packedB);
    loadField(cP, JOB.cPadded);
    loadField(out, JOB.out);
    loadField(cPad, JOB.cPad);
    loadField(panels, JOB.panels);
    loadField(epi, JOB.epilogue);
    cmp.localGet(cPad).i32Const(2).i32Shl().localSet(ldcBytes);
    cmp.localGet(C).i32Const(2).i32Shl().localSet(cBytes);
    const claimUnit = (): FunctionBuilder => cmp.localGet(job).i32Const(JOB.claim * 4).i32Add().localGet(t).i32Const(1).i32Eq().call(CLAIM_UNIT);
    const depthBlock = (): void => {
      cmp.localGet(D).localGet(pc).i32Sub().localSet(kc);
      cmp.localGet(kc).i32Const(KC).i32GtS().if().i32Const(KC).localSet(kc).end();
      // init = pc > 0 ? 2 : (bias ? 1 : 0)
      cmp.i32Const(2).localGet(bias).i32Const(0).i32Ne().localGet(pc).select().localSet(init);
    };
    /** kernel(aBlock + ir·kc·4, bp, kc, cP + row·ldc + jp·NR·4, ldc, init, bias + jp·NR·4) over micro-panels ir < rows */
    const microPanels = (aBlock: () => void, rowBase: number | null, rows: number): void => {
      cmp.i32Const(0).localSet(ir);
      cmp.block().loop();
      cmp.localGet(ir).localGet(rows).i32GeS().brIf(1);
      aBlock();
      cmp.localGet(ir).localGet(kc).i32Mul().i32Const(2).i32Shl().i32Add();
      cmp.localGet(bp).localGet(kc);
      cmp.localGet(cP).localGet(ir);
      if (rowBase !== null) cmp.localGet(rowBase).i32Add();
      cmp.localGet(ldcBytes).i32Mul().i32Add().localGet(jp).i32Const(NR * 4).i32Mul().i32Add();
      cmp.localGet(ldcBytes).localGet(init);
      cmp.localGet(bias).localGet(jp).i32Const(NR * 4).i32Mul().i32Add();
      cmp.call(KERNEL);
      cmp.localGet(ir).i32Const(MR).i32Add().localSet(ir);
      cmp.br(0).end().end();
    };
    const bPanelAt = (): void => {
      cmp.localGet(packedB).localGet(jp).localGet(D).i32Mul().localGet(pc).i32Add().i32Const(NR * 4).i32Mul().i32Add().localSet(bp);
    };
    const copyOut = (r0: () => void, r1: () => void, j0: () => void, jEnd: () => void): void => {
      cmp.localGet(epi).if();
      cmp.localGet(cP).localGet(out).localGet(add).localGet(ldcBytes).localGet(cBytes);
      r0();
      r1();
      j0();
      jEnd();
      cmp.call(COPY_OUT);
      cmp.end();
    };

    field(cmp, job, JOB.splitColumns).if();
    {
      // column split: every row of one claimed panel at a time
      bStrides(cmp, job, rowStride, colStride);
      cmp.localGet(R).i32Const(MR - 1).i32Add().i32Const(MR).i32DivU().i32Const(MR).i32Mul().localSet(rPad);
      field(cmp, job, JOB.chunk).localSet(chunk);
      cmp.block().loop();
      claimUnit().localTee(jp);
      cmp.i32Const(0).i32LtS().brIf(1);
      cmp.localGet(jp).localGet(chunk).i32Mul().localSet(jp);
      cmp.localGet(jp).localGet(chunk).i32Add().localSet(jEndPanel);
      cmp.localGet(jEndPanel).localGet(panels).i32GtS().if().localGet(panels).localSet(jEndPanel).end();
      cmp.block().loop();
      cmp.localGet(jp).localGet(jEndPanel).i32GeS().brIf(1);
      // one row (batch 1): two panels at a time through kernelRow
      cmp.localGet(R).i32Const(1).i32Eq().localGet(jp).i32Const(1).i32Add().localGet(jEndPanel).i32LtS().i32And().localSet(pair);
      field(cmp, job, JOB.packed).i32Eqz().if();
      packPanelJp(cmp, job, jp, D, C, rowStride, colStride);
      cmp.localGet(pair).if();
      cmp.localGet(jp).i32Const(1).i32Add().localSet(jNext);
      packPanelJp(cmp, job, jNext, D, C, rowStride, colStride);
      cmp.end();
      cmp.end();
      const aBlock = (): void => void field(cmp, job, JOB.aPacked).localGet(pc).localGet(rPad).i32Mul().i32Const(2).i32Shl().i32Add();
      cmp.i32Const(0).localSet(pc);
      cmp.block().loop();
      depthBlock();
      bPanelAt();
      cmp.localGet(pair).if();
      // kernelRow(aBlock, bp, kc, cP + jp·NR·4, D·NR·4, init, bias + jp·NR·4)
      aBlock();
      cmp.localGet(bp).localGet(kc);
      cmp.localGet(cP).localGet(jp).i32Const(NR * 4).i32Mul().i32Add();
      cmp.localGet(D).i32Const(NR * 4).i32Mul();
      cmp.localGet(init);
      cmp.localGet(bias).localGet(jp).i32Const(NR * 4).i32Mul().i32Add();
      cmp.call(KERNEL_ROW);
      cmp.else();
      microPanels(aBlock, null, R);
      cmp.end();
      cmp.localGet(pc).i32Const(KC).i32Add().localSet(pc);
      cmp.localGet(pc).localGet(D).i32LtS().brIf(0);
      cmp.end().end();
      cmp.localGet(jp).i32Const(1).i32Add().localGet(pair).i32Add().i32Const(NR * 4).i32Mul().localSet(j1);
      cmp.localGet(j1).localGet(cBytes).i32GtS().if().localGet(cBytes).localSet(j1).end();
      copyOut(
        () => void cmp.i32Const(0),
        () => void cmp.localGet(R),
        () => void cmp.localGet(jp).i32Const(NR * 4).i32Mul(),
        () => void cmp.localGet(j1),
      );
      cmp.localGet(jp).i32Const(1).i32Add().localGet(pair).i32Add().localSet(jp);
      cmp.br(0).end().end();
      cmp.br(0).end().end();
    }
    cmp.else();
    {
      // row split: MC rows at a time, against every (already packed) panel
      field(cmp, job, JOB.scratch).localGet(t);
      field(cmp, job, JOB.scratchBytes).i32Mul().i32Add().localSet(ap);
      cmp.block().loop();
      claimUnit().localTee(ic);
      cmp.i32Const(0).i32LtS().brIf(1);
      cmp.localGet(ic).i32Const(MC).i32Mul().localSet(ic);
      cmp.localGet(R).localGet(ic).i32Sub().localSet(mc);
      cmp.localGet(mc).i32Const(MC).i32GtS().if().i32Const(MC).localSet(mc).end();
      // depth blocks (at least one, so a zero depth still writes bias or zeros)
      cmp.i32Const(0).localSet(pc);
      cmp.block().loop();
      depthBlock();
      // packA(ap, a + ic·rsA + pc·csA, rsA, csA, mc, kc)
      cmp.localGet(ap);
      cmp.localGet(a).localGet(ic).localGet(rsA).i32Mul().i32Add().localGet(pc).localGet(csA).i32Mul().i32Add();
      cmp.localGet(rsA).localGet(csA).localGet(mc).localGet(kc).call(PACK_A);
      cmp.i32Const(0).localSet(jp);
      cmp.block().loop();
      cmp.localGet(jp).localGet(panels).i32GeS().brIf(1);
      bPanelAt();
      microPanels(() => void cmp.localGet(ap), ic, mc);
      cmp.localGet(jp).i32Const(1).i32Add().localSet(jp);
      cmp.br(0).end().end();
      cmp.localGet(pc).i32Const(KC).i32Add().localSet(pc);
      cmp.localGet(pc).localGet(D).i32LtS().brIf(0);
      cmp.end().end();
      copyOut(
        () => void cmp.localGet(ic),
        () => void cmp.localGet(ic).localGet(mc).i32Add(),
        () => void cmp.i32Const(0),
        () => void cmp.localGet(cBytes),
      );
      cmp.br(0).end().end();
    }
    cmp.end();
  }

  return encodeModule({ module: 'env', field: 'memory', minPages: 1, maxPages, shared: true }, [k, pa, pp, co, kr, cu, prep, pall, cmp]);
}
