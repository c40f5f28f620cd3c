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
// Structure (BLIS-like). `prepare`: the participants split B's NR-column panels
// and pack them (depth-major, NR floats per depth step, zero past C; nt's
// transposed B through 4×4 shuffle transposes), then meet at a barrier.
// `compute`: each participant owns a range of MR-row micro-panels; per KC depth
// block it packs MC×KC of its A rows into MR-row micro-panels (zero rows past
// R) and, for every B panel, runs the MR×NR register-blocked micro-kernel over
// them. The micro-kernel always writes whole tiles into a padded C (row stride
// Cpad = C rounded up to NR, rows rounded up to MR), so it has no edge cases; a
// last pass per row copies the valid part out and adds `add`.
//
// Per depth step the micro-kernel does NR/4 vector loads of B, MR splat loads
// of A and MR·NR/4 f32x4 multiplies and adds. (Relaxed-SIMD's FMA, behind
// --experimental-wasm-relaxed-simd in Node 20, measured no faster for 2×16 and
// would make results depend on the machine.) Each output is accumulated in
// depth order, like the gpu.js kernels' loops (bias first, add last), and
// does not depend on how rows are split over threads.

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
  /** 1: B is already packed at `packedB` (a resident operand), so prepare does nothing. */
  packed: 19,
} as const;
export const JOB_WORDS = 20;

/** Bytes of per-participant scratch: one packed A block. */
export function scratchBytes(shape: GemmShape): number {
  return shape.MC * shape.KC * 4 + 64;
}

export interface GemmExports {
  /** Packs this participant's share of B's panels (all participants meet at a barrier after it). */
  prepare(job: number, t: number): void;
  /** Computes this participant's rows, including the copy-out/add pass. */
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

  const field = (f: FunctionBuilder, job: number, i: number): FunctionBuilder => f.localGet(job).i32Load(i * 4);
  /** share(units, t, P) = floor(t·units / P), left on the stack. */
  const share = (f: FunctionBuilder, units: number, t: number, P: number, plusOne: boolean): void => {
    f.localGet(t);
    if (plusOne) f.i32Const(1).i32Add();
    f.localGet(units).i32Mul().localGet(P).i32DivU();
  };

  // ---- prepare(job, t): pack this participant's share of B's NR-column panels -----------
  // Panel jp holds D×NR floats: depth-major, NR consecutive columns, zero past C.
  // B(p,j) is at b + p·rowStride + j·colStride: nt w[j,p] (4, ldw), nn/tn (ldb, 4).
  const prep = new FunctionBuilder('prepare', ['i32', 'i32'], [], true);
  {
    const [job, t] = [0, 1];
    const panels = prep.local('i32');
    const P = prep.local('i32');
    const jp = prep.local('i32');
    const j1 = prep.local('i32');
    const C = prep.local('i32');
    const D = prep.local('i32');
    const ld = prep.local('i32');
    const rowStride = prep.local('i32');
    const colStride = prep.local('i32');
    field(prep, job, JOB.packed).if().return().end();
    field(prep, job, JOB.C).localSet(C);
    field(prep, job, JOB.D).localSet(D);
    field(prep, job, JOB.ldb).localSet(ld);
    field(prep, job, JOB.participants).localSet(P);
    field(prep, job, JOB.bTransposed).if();
    prep.i32Const(4).localSet(rowStride).localGet(ld).localSet(colStride);
    prep.else();
    prep.localGet(ld).localSet(rowStride).i32Const(4).localSet(colStride);
    prep.end();
    prep.localGet(C).i32Const(NR - 1).i32Add().i32Const(NR).i32DivU().localSet(panels);
    share(prep, panels, t, P, false);
    prep.localSet(jp);
    share(prep, panels, t, P, true);
    prep.localSet(j1);
    prep.block().loop();
    prep.localGet(jp).localGet(j1).i32GeS().brIf(1);
    // packPanel(packedB + jp·D·NR·4, b + jp·NR·colStride, rowStride, colStride, D, C − jp·NR)
    field(prep, job, JOB.packedB).localGet(jp).localGet(D).i32Mul().i32Const(NR * 4).i32Mul().i32Add();
    field(prep, job, JOB.b).localGet(jp).i32Const(NR).i32Mul().localGet(colStride).i32Mul().i32Add();
    prep.localGet(rowStride).localGet(colStride).localGet(D);
    prep.localGet(C).localGet(jp).i32Const(NR).i32Mul().i32Sub();
    prep.call(PACK_PANEL);
    prep.localGet(jp).i32Const(1).i32Add().localSet(jp);
    prep.br(0).end().end();
  }

  // ---- compute(job, t) --------------------------------------------------------------
  const cmp = new FunctionBuilder('compute', ['i32', 'i32'], [], true);
  {
    const [job, t] = [0, 1];
    const L = (): number => cmp.local('i32');
    const [R, C, D, a, rsA, csA, bias, add, packedB, cP, out, cPad, P] = Array.from({ length: 13 }, L);
    const [units, r0, r1, ap, panels, pc, kc, init, ic, mc, jp, bp, ir] = Array.from({ length: 13 }, L);
    const [i, src, dst, addp, j, cBytes, ldcBytes] = Array.from({ length: 7 }, L);
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
    loadField(P, JOB.participants);
    cmp.localGet(cPad).i32Const(2).i32Shl().localSet(ldcBytes);

    // rows [r0, r1) of this participant, in whole micro-panels
    cmp.localGet(R).i32Const(MR - 1).i32Add().i32Const(MR).i32DivU().localSet(units);
    share(cmp, units, t, P, false);
    cmp.i32Const(MR).i32Mul().localSet(r0);
    share(cmp, units, t, P, true);
    cmp.i32Const(MR).i32Mul().localSet(r1);
    cmp.localGet(r1).localGet(R).i32GtS().if().localGet(R).localSet(r1).end();
    cmp.localGet(r0).localGet(r1).i32GeS().if().return().end();

    // scratch: this participant's packed A block
    field(cmp, job, JOB.scratch).localGet(t);
    field(cmp, job, JOB.scratchBytes).i32Mul().i32Add().localSet(ap);
    cmp.localGet(C).i32Const(NR - 1).i32Add().i32Const(NR).i32DivU().localSet(panels);

    // depth blocks (at least one, so a zero depth still writes bias or zeros)
    cmp.i32Const(0).localSet(pc);
    cmp.block().loop();
    cmp.localGet(D).localGet(pc).i32Sub().localSet(kc);
    cmp.localGet(kc).i32Const(KC).i32GtS().if().i32Const(KC).localSet(kc).end();
    // init = pc > 0 ? 2 : (bias ? 1 : 0)
    cmp.i32Const(2).localGet(bias).i32Const(0).i32Ne().localGet(pc).select().localSet(init);

    cmp.localGet(r0).localSet(ic);
    cmp.block().loop();
    cmp.localGet(ic).localGet(r1).i32GeS().brIf(1);
    cmp.localGet(r1).localGet(ic).i32Sub().localSet(mc);
    cmp.localGet(mc).i32Const(MC).i32GtS().if().i32Const(MC).localSet(mc).end();
    // packA(ap, a + ic·rsA + pc·csA, rsA, csA, mc, kc)
    cmp.localGet(ap);
    cmp.localGet(a).localGet(ic).localGet(rsA).i32Mul().i32Add().localGet(pc).localGet(csA).i32Mul().i32Add();
    cmp.localGet(rsA).localGet(csA).localGet(mc).localGet(kc).call(PACK_A);

    cmp.i32Const(0).localSet(jp);
    cmp.block().loop();
    cmp.localGet(jp).localGet(panels).i32GeS().brIf(1);
    // the packed B panel jp at depth pc
    cmp.localGet(packedB).localGet(jp).localGet(D).i32Mul().localGet(pc).i32Add().i32Const(NR * 4).i32Mul().i32Add().localSet(bp);

    cmp.i32Const(0).localSet(ir);
    cmp.block().loop();
    cmp.localGet(ir).localGet(mc).i32GeS().brIf(1);
    // kernel(ap + ir·kc·4, bp, kc, cP + (ic+ir)·ldc + jp·NR·4, ldc, init, bias + jp·NR·4)
    cmp.localGet(ap).localGet(ir).localGet(kc).i32Mul().i32Const(2).i32Shl().i32Add();
    cmp.localGet(bp).localGet(kc);
    cmp.localGet(cP).localGet(ic).localGet(ir).i32Add().localGet(ldcBytes).i32Mul().i32Add().localGet(jp).i32Const(NR * 4).i32Mul().i32Add();
    cmp.localGet(ldcBytes).localGet(init);
    cmp.localGet(bias).localGet(jp).i32Const(NR * 4).i32Mul().i32Add();
    cmp.call(KERNEL);
    cmp.localGet(ir).i32Const(MR).i32Add().localSet(ir);
    cmp.br(0).end().end();

    cmp.localGet(jp).i32Const(1).i32Add().localSet(jp);
    cmp.br(0).end().end();

    cmp.localGet(ic).i32Const(MC).i32Add().localSet(ic);
    cmp.br(0).end().end();

    cmp.localGet(pc).i32Const(KC).i32Add().localSet(pc);
    cmp.localGet(pc).localGet(D).i32LtS().brIf(0);
    cmp.end().end();

    // epilogue: out row i = padded row i (+ add row i), for this participant's rows
    const rows = (withAdd: boolean): void => {
      cmp.localGet(r0).localSet(i);
      cmp.block().loop();
      cmp.localGet(i).localGet(r1).i32GeS().brIf(1);
      cmp.localGet(cP).localGet(i).localGet(ldcBytes).i32Mul().i32Add().localSet(src);
      cmp.localGet(out).localGet(i).localGet(cBytes).i32Mul().i32Add().localSet(dst);
      cmp.localGet(add).localGet(i).localGet(cBytes).i32Mul().i32Add().localSet(addp);
      cmp.i32Const(0).localSet(j);
      // vector part
      cmp.block().loop();
      cmp.localGet(j).i32Const(16).i32Add().localGet(cBytes).i32GtS().brIf(1);
      cmp.localGet(dst).localGet(j).i32Add();
      cmp.localGet(src).localGet(j).i32Add().v128Load();
      if (withAdd) cmp.localGet(addp).localGet(j).i32Add().v128Load().f32x4Add();
      cmp.v128Store();
      cmp.localGet(j).i32Const(16).i32Add().localSet(j);
      cmp.br(0).end().end();
      // scalar tail
      cmp.block().loop();
      cmp.localGet(j).localGet(cBytes).i32GeS().brIf(1);
      cmp.localGet(dst).localGet(j).i32Add();
      cmp.localGet(src).localGet(j).i32Add().f32Load();
      if (withAdd) cmp.localGet(addp).localGet(j).i32Add().f32Load().f32Add();
      cmp.f32Store();
      cmp.localGet(j).i32Const(4).i32Add().localSet(j);
      cmp.br(0).end().end();
      cmp.localGet(i).i32Const(1).i32Add().localSet(i);
      cmp.br(0).end().end();
    };
    field(cmp, job, JOB.epilogue).if();
    cmp.localGet(C).i32Const(2).i32Shl().localSet(cBytes);
    cmp.localGet(add).if();
    rows(true);
    cmp.else();
    rows(false);
    cmp.end();
    cmp.end();
  }

  return encodeModule({ module: 'env', field: 'memory', minPages: 1, maxPages, shared: true }, [k, pa, pp, prep, cmp]);
}
