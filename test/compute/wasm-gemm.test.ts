import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Product } from '../../src/compute/kernel-sources.js';
import { WasmGemm } from '../../src/compute/wasm-gemm/gemm.js';
import { Rng } from '../../src/model/rng.js';

// Each kind against a float64 naive product of the same float32 inputs,
// ‖Δ‖∞ / ‖ref‖∞. float32 accumulation over K ≤ 2048 terms stays near 1e-6.
const TOLERANCE = 1e-5;

function operandSizes(p: Product): number[] {
  const { kind, M, N, K, add } = p;
  if (kind === 'nt') return [M * K, N * K, N, ...(add ? [M * N] : [])];
  if (kind === 'nn') return [M * N, N * K, ...(add ? [M * K] : [])];
  return [M * N, M * K];
}

function operands(p: Product, seed: number): Float32Array[] {
  const rng = Rng.seeded(seed);
  return operandSizes(p).map((n) => Float32Array.from({ length: n }, () => rng.uniform() * 2 - 1));
}

/** The kernel-sources.ts loops, in float64. */
function naive(p: Product, args: Float32Array[]): Float64Array {
  const { kind, M, N, K } = p;
  if (kind === 'nt') {
    const [a, w, bias, add] = args;
    const out = new Float64Array(M * N);
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) {
        let s = bias[n];
        for (let k = 0; k < K; k++) s += a[m * K + k] * w[n * K + k];
        out[m * N + n] = s + (add ? add[m * N + n] : 0);
      }
    }
    return out;
  }
  if (kind === 'nn') {
    const [a, b, add] = args;
    const out = new Float64Array(M * K);
    for (let m = 0; m < M; m++) {
      for (let k = 0; k < K; k++) {
        let s = 0;
        for (let n = 0; n < N; n++) s += a[m * N + n] * b[n * K + k];
        out[m * K + k] = s + (add ? add[m * K + k] : 0);
      }
    }
    return out;
  }
  const [a, x] = args;
  const out = new Float64Array(N * K);
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) {
      let s = 0;
      for (let m = 0; m < M; m++) s += a[m * N + n] * x[m * K + k];
      out[n * K + k] = s;
    }
  }
  return out;
}

function relativeError(got: Float32Array, ref: Float64Array): number {
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < ref.length; i++) {
    diff = Math.max(diff, Math.abs(got[i] - ref[i]));
    norm = Math.max(norm, Math.abs(ref[i]));
  }
  return norm === 0 ? diff : diff / norm;
}

// Row-split products (more rows than columns) and column-split ones (thin:
// per-timestep and batch-1 shapes), with edges: odd rows, columns off the
// 16-wide panels, depths past one 256-deep block.
const SHAPES: [number, number, number][] = [
  [1, 1, 1],
  [3, 5, 7],
  [33, 65, 17],
  [1, 300, 37],
  [5, 1024, 260],
  [300, 5, 40],
  [2048, 512, 192],
];

const products: Product[] = SHAPES.flatMap(([M, N, K]) => [
  { kind: 'nt', M, N, K, add: false },
  { kind: 'nt', M, N, K, add: true },
  { kind: 'nn', M, N, K, add: false },
  { kind: 'nn', M, N, K, add: true },
  { kind: 'tn', M, N, K, add: false },
]);

const label = (p: Product): string => `${p.kind} ${p.M}×${p.N}×${p.K}${p.add ? ' + add' : ''}`;

describe('wasm-gemm', () => {
  let single: WasmGemm;
  let threaded: WasmGemm;
  beforeAll(async () => {
    single = await WasmGemm.create(1);
    // every product on two threads, however small
    threaded = await WasmGemm.create(2, { threadedFromMacs: 0, thinThreadedFromMacs: 0, rowThreadedFromMacs: 0 });
  });
  afterAll(() => {
    single?.destroy();
    threaded?.destroy();
  });

  products.forEach((p, i) => {
    it(`${label(p)} matches a float64 product; 1 and 2 threads agree bit for bit`, async () => {
      const args = operands(p, 100 + i);
      const ref = naive(p, args);
      const one = await single.run(p, args);
      const two = await threaded.run(p, args);
      expect(one).toBeInstanceOf(Float32Array);
      expect(one.length).toBe(ref.length);
      expect(relativeError(one, ref)).toBeLessThan(TOLERANCE);
      expect(Buffer.from(two.buffer, two.byteOffset, two.byteLength).equals(Buffer.from(one.buffer, one.byteOffset, one.byteLength))).toBe(true);
    });
  });

  it('alternating row- and column-split products, back to back, agree with one thread bit for bit', async () => {
    const mix: Product[] = [
      { kind: 'nt', M: 32, N: 256, K: 64, add: true },
      { kind: 'tn', M: 64, N: 48, K: 32, add: false },
      { kind: 'nn', M: 2, N: 96, K: 200, add: false },
      { kind: 'nt', M: 130, N: 40, K: 33, add: false },
    ];
    const inputs = mix.map((p, i) => operands(p, 300 + i));
    const refs = await Promise.all(mix.map((p, i) => single.run(p, inputs[i])));
    for (let round = 0; round < 100; round++) {
      const i = round % mix.length;
      const got = await threaded.run(mix[i], inputs[i]);
      expect(Buffer.from(got.buffer).equals(Buffer.from(refs[i].buffer))).toBe(true);
    }
  });

  it('takes subarray views and returns fresh arrays, not views of wasm memory', async () => {
    const p: Product = { kind: 'nt', M: 4, N: 6, K: 5, add: false };
    const [a, w, bias] = operands(p, 7);
    const padded = new Float32Array(a.length + 3);
    padded.set(a, 3);
    const got = await single.run(p, [padded.subarray(3), w, bias]);
    expect(relativeError(got, naive(p, [a, w, bias]))).toBeLessThan(TOLERANCE);
    expect(got.buffer).toBeInstanceOf(ArrayBuffer);
    expect(got.byteOffset).toBe(0);
    const again = await single.run(p, [a, w, bias]);
    expect(again.buffer).not.toBe(got.buffer);
  });

  it('reuses its memory: repeated products do not grow it', async () => {
    const p: Product = { kind: 'tn', M: 300, N: 70, K: 90, add: false };
    const args = operands(p, 9);
    await threaded.run(p, args);
    const bytes = threaded.memoryBytes;
    for (let i = 0; i < 20; i++) await threaded.run(p, args);
    expect(threaded.memoryBytes).toBe(bytes);
  });

  it('keeps a pinned weight packed: same results, and a changed weight is seen once unpinned', async () => {
    for (const gemm of [single, threaded]) {
      for (const kind of ['nt', 'nn'] as const) {
        const p: Product = { kind, M: 32, N: 96, K: 40, add: true };
        const args = operands(p, 21);
        const params = new Float32Array(args[1].length + 8);
        params.set(args[1], 8);
        const w = params.subarray(8);
        const withW = (x: Float32Array): Float32Array[] => args.map((a, i) => (i === 1 ? x : a));
        const plain = await gemm.run(p, withW(w));
        gemm.pin(params);
        // a fresh view of the same bytes, as Network makes per pass
        const first = await gemm.run(p, withW(params.subarray(8)));
        const second = await gemm.run(p, withW(params.subarray(8)));
        gemm.unpin(params);
        expect(Array.from(first)).toEqual(Array.from(plain));
        expect(Array.from(second)).toEqual(Array.from(plain));
        w[0] += 1;
        const changed = await gemm.run(p, withW(w));
        expect(relativeError(changed, naive(p, withW(w)))).toBeLessThan(TOLERANCE);
        expect(Array.from(changed)).not.toEqual(Array.from(plain));
      }
    }
  });

  it('reuses a product layout per pinned weight view, and drops it when another weight moves the layout', async () => {
    for (const gemm of [single, threaded]) {
      for (const [kind, M, add] of [['nt', 1, false], ['nt', 3, true], ['nn', 1, true]] as const) {
        const p: Product = { kind, M, N: 96, K: 40, add };
        const sizes = operandSizes(p);
        const params = new Float32Array(2 * sizes[1] + 16);
        const rng = Rng.seeded(51);
        for (let i = 0; i < params.length; i++) params[i] = rng.uniform() * 2 - 1;
        // the same view objects every call, as Network's cached parameter views
        const w1 = params.subarray(0, sizes[1]);
        const w2 = params.subarray(sizes[1] + 16);
        gemm.pin(params);
        for (let step = 0; step < 10; step++) {
          const [a, , ...rest] = operands(p, 60 + step);
          // the second weight's first use (step 4) adds a resident operand above the first's:
          // the first's plan, laid out from the old top, must not survive it and overwrite it
          const w = step >= 4 && step % 2 === 0 ? w2 : w1;
          const got = await gemm.run(p, [a, w, ...rest]);
          const want = await gemm.run(p, [a, w.slice(), ...rest]);
          expect(Array.from(got), `${label(p)} step ${step}`).toEqual(Array.from(want));
        }
        await expect(gemm.run(p, [new Float32Array(sizes[0] + 1), w1, ...operands(p, 1).slice(2)])).rejects.toThrow(/argument 0/);
        gemm.unpin(params);
      }
    }
  });

  it('copies a pinned A in once: same results, a changed A seen once unpinned, no growth over pin cycles', async () => {
    const nn: Product = { kind: 'nn', M: 64, N: 48, K: 20, add: false };
    const tn: Product = { kind: 'tn', M: 64, N: 48, K: 20, add: false };
    const [a, b] = operands(nn, 31);
    const [, x] = operands(tn, 32);
    const plainNn = await threaded.run(nn, [a, b]);
    const plainTn = await threaded.run(tn, [a, x]);
    let bytes = 0;
    for (let cycle = 0; cycle < 5; cycle++) {
      threaded.pin(a);
      // a fresh view of the same bytes each time, as Network's workspace gives
      expect(Array.from(await threaded.run(tn, [a.subarray(0), x]))).toEqual(Array.from(plainTn));
      expect(Array.from(await threaded.run(nn, [a.subarray(0), b]))).toEqual(Array.from(plainNn));
      threaded.unpin(a);
      if (cycle === 0) bytes = threaded.memoryBytes;
    }
    expect(threaded.memoryBytes).toBe(bytes);
    a[0] += 1;
    const changed = await threaded.run(nn, [a, b]);
    expect(relativeError(changed, naive(nn, [a, b]))).toBeLessThan(TOLERANCE);
    expect(Array.from(changed)).not.toEqual(Array.from(plainNn));
  });

  it('writes into a given output array (a view too) and refuses one of the wrong size', async () => {
    const p: Product = { kind: 'nt', M: 5, N: 40, K: 9, add: true };
    const args = operands(p, 11);
    const want = await threaded.run(p, args);
    const backing = new Float32Array(5 * 40 + 7).fill(-1);
    const out = backing.subarray(3, 3 + 5 * 40);
    expect(await threaded.run(p, args, out)).toBe(out);
    expect(Array.from(out)).toEqual(Array.from(want));
    expect([...backing.subarray(0, 3), ...backing.subarray(203)]).toEqual([-1, -1, -1, -1, -1, -1, -1]);
    await expect(threaded.run(p, args, new Float32Array(199))).rejects.toThrow(/output array should hold 200/);
  });

  it('refuses operands of the wrong size', async () => {
    const p: Product = { kind: 'nn', M: 3, N: 4, K: 5, add: false };
    await expect(single.run(p, [new Float32Array(12), new Float32Array(19)])).rejects.toThrow(/argument 1/);
  });
});
