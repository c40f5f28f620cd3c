import { GPU } from 'gpu.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { gpujsPatched } from '../../src/compute/gpujs-patch.js';

// src/compute/patches/gpu.js+2.24.1.patch changes two things in gpu.js's webasm code
// generator: Math.exp is computed inline instead of by a JS call per lane, and a
// read whose four lanes are neighbours is one vector load instead of a gather.
// The exp tests pin that no JS runs per lane and the accuracy; the read test
// pins that both paths of the new load (neighbours, gather) return exact values.
const gpu = new GPU({ mode: 'webasm' });
afterAll(() => gpu.destroy());

function ulpDistance(a: number, b: number): number {
  const bits = new Int32Array(new Float32Array([a, b]).buffer);
  return Math.abs(bits[0] - bits[1]);
}

describe('webasm Math.exp (patched gpu.js)', () => {
  const N = 1 << 14;
  const xs = new Float32Array(N);
  for (let i = 0; i < N; i++) xs[i] = -110 + (200 * i) / N;
  xs.set([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0, 88.72, 88.73, -87.5, -100, -103.9]);

  it('does not call JavaScript per lane, vectorised or scalar', () => {
    const original = Math.exp;
    let calls = 0;
    Math.exp = (x: number) => {
      calls++;
      return original(x);
    };
    try {
      const vector = gpu.createKernel(function (a: number[]) {
        return Math.exp(a[this.thread.x]);
      }, { output: [N], precision: 'single' });
      const scalar = gpu.createKernel(function (a: number[]) {
        let s = 0;
        for (let i = 0; i < 4; i++) s += Math.exp(a[this.thread.x * 4 + i]);
        return s;
      }, { output: [N / 4], precision: 'single' });
      vector(xs);
      scalar(xs);
      expect((vector as unknown as { kernel: { constructor: { name: string } } }).kernel.constructor.name).toBe('WebAssemblyKernel');
    } finally {
      Math.exp = original;
    }
    expect(calls).toBe(0);
  });

  it('is within 1 ulp of the correctly rounded value, with IEEE specials and subnormals', () => {
    const k = gpu.createKernel(function (a: number[]) {
      return Math.exp(a[this.thread.x]);
    }, { output: [N], precision: 'single' });
    const y = k(xs) as Float32Array;
    let worst = 0;
    for (let i = 0; i < N; i++) {
      const ref = Math.fround(Math.exp(xs[i]));
      if (Number.isNaN(ref)) {
        expect(y[i]).toBeNaN();
      } else if (!Number.isFinite(ref) || ref === 0) {
        expect(y[i]).toBe(ref);
      } else if (ref < 1.1754944e-38) {
        expect(Math.abs(y[i] - ref)).toBeLessThanOrEqual(2 ** -149 * 2);
      } else {
        worst = Math.max(worst, ulpDistance(ref, y[i]));
      }
    }
    expect(worst).toBeLessThanOrEqual(1);
  });
});

describe('webasm reads of neighbouring elements (patched gpu.js)', () => {
  it('reads base + thread.x exactly, at unaligned bases, up to the last element, and in 2D', () => {
    const a = Float32Array.from({ length: 203 }, (_, i) => i * 0.5 - 7);
    const shifted = gpu.createKernel(function (v: number[], base: number) {
      return v[base + this.thread.x];
    }, { output: [197], precision: 'single' });
    for (const base of [0, 1, 2, 3, 6]) {
      const got = shifted(a, base) as Float32Array;
      expect(Array.from(got)).toEqual(Array.from(a.subarray(base, base + 197)));
    }
    // base 6 reads through a[202], the last element; rows of 10 from a 2D thread grid
    const rows = gpu.createKernel(function (v: number[]) {
      return v[this.thread.y * 10 + this.thread.x + 5];
    }, { output: [10, 19], precision: 'single' });
    const got = rows(a) as Float32Array[];
    for (let y = 0; y < 19; y++) {
      for (let x = 0; x < 10; x++) expect(got[y][x]).toBe(a[y * 10 + x + 5]);
    }
    // strided and reversed reads are not neighbours and must still gather
    const strided = gpu.createKernel(function (v: number[]) {
      return v[this.thread.x * 2] - v[100 - this.thread.x];
    }, { output: [50], precision: 'single' });
    const s = strided(a) as Float32Array;
    for (let i = 0; i < 50; i++) expect(s[i]).toBe(a[2 * i] - a[100 - i]);
  });
});

describe('webasm unit-stride reads (patched gpu.js)', () => {
  const a = Float32Array.from({ length: 203 }, (_, i) => i * 0.25 - 9);
  const ref = (i: number): number => a[Math.min(Math.max(Math.trunc(i), 0), a.length - 1)];

  it('reads (uniform) + thread.x through const locals exactly, with float and integer indices', () => {
    const viaLocals = gpu.createKernel(function (v: number[]) {
      const u = this.thread.x;
      const b = this.thread.y;
      const s = b * 20 + u;
      return v[s + 3] - v[3 + s - 1];
    }, { output: [20, 10], precision: 'single' });
    const inline = gpu.createKernel(function (v: number[]) {
      return v[this.thread.y * 20 + 3 + this.thread.x];
    }, { output: [20, 10], precision: 'single' });
    const l = viaLocals(a) as Float32Array[];
    const n = inline(a) as Float32Array[];
    for (let y = 0; y < 10; y++) {
      for (let x = 0; x < 20; x++) {
        expect(l[y][x]).toBe(a[y * 20 + x + 3] - a[y * 20 + x + 2]);
        expect(n[y][x]).toBe(a[y * 20 + x + 3]);
      }
    }
  });

  it('falls back lane by lane where the fast path would be wrong: fractional, negative, past the end, let locals', () => {
    const shifted = gpu.createKernel(function (v: number[], base: number) {
      return v[base + this.thread.x];
    }, { output: [40], precision: 'single' });
    for (const base of [0.5, -0.5, -1.25, -2, -2.5, 180, 201]) {
      const got = shifted(a, base) as Float32Array;
      for (let x = 0; x < 40; x++) expect(got[x], `base ${base}, x ${x}`).toBe(ref(base + x));
    }
    // a let local changes inside the loop: its coefficient of thread.x is not trusted
    const reassigned = gpu.createKernel(function (v: number[]) {
      let s = this.thread.x;
      let acc = 0;
      for (let k = 0; k < 3; k++) {
        acc += v[s];
        s = s * 2 + 1;
      }
      return acc;
    }, { output: [24], precision: 'single' });
    const got = reassigned(a) as Float32Array;
    for (let x = 0; x < 24; x++) expect(got[x]).toBe(Math.fround(Math.fround(ref(x) + ref(2 * x + 1)) + ref(4 * x + 3)));
  });

  it('compiles an Integer (uniform) + thread.x index to a bounds check and one load, with no per-lane contiguity test', () => {
    const modules: Uint8Array[] = [];
    const api = (globalThis as unknown as { WebAssembly: { Module: new (bytes: Uint8Array) => unknown } }).WebAssembly;
    const Module = api.Module;
    api.Module = function (bytes: Uint8Array) {
      modules.push(new Uint8Array(bytes));
      return new Module(bytes);
    } as unknown as typeof Module;
    try {
      const k = gpu.createKernel(function (v: number[]) {
        return v[this.thread.y * 20 + this.thread.x];
      }, { output: [20, 10], precision: 'single' });
      k(a);
    } finally {
      api.Module = Module;
    }
    const bytes = modules[modules.length - 1];
    const has = (...seq: number[]): boolean => bytes.some((_, i) => seq.every((b, j) => bytes[i + j] === b));
    // i32x4.all_true (0xfd 0xa3 0x01) was the old per-read contiguity test
    expect(has(0xfd, 0xa3, 0x01)).toBe(false);
    // i32.le_u, then if with a v128 result (0x04 0x7b): the lane-0 bounds check
    expect(has(0x4d, 0x04, 0x7b)).toBe(true);
  });
});

describe('webasm flatOutput (patched gpu.js)', () => {
  it('returns the row-major data as one array when the kernel object asks for it', () => {
    const k = gpu.createKernel(function () {
      return this.thread.z * 100 + this.thread.y * 10 + this.thread.x;
    }, { output: [4, 3, 2], precision: 'single' });
    const nested = k() as unknown as Float32Array[][];
    expect(nested[1][2][3]).toBe(123);
    (k.kernel as unknown as { flatOutput: boolean }).flatOutput = true;
    const flat = k() as unknown as Float32Array;
    expect(flat).toBeInstanceOf(Float32Array);
    expect(Array.from(flat)).toEqual(nested.flatMap((rows) => rows.flatMap((row) => Array.from(row))));
  });
});

describe('webasm outputTarget (patched gpu.js)', () => {
  it('writes one run into the given array (a view too), then goes back to fresh arrays; a wrong size is ignored', () => {
    const k = gpu.createKernel(function (a: number[]) {
      return a[this.thread.x] * 2;
    }, { output: [8], precision: 'single' });
    const input = Float32Array.from({ length: 8 }, (_, i) => i);
    const backing = new Float32Array(12).fill(-1);
    const view = backing.subarray(2, 10);
    const inner = k.kernel as unknown as { outputTarget: Float32Array | null };
    inner.outputTarget = view;
    expect(k(input)).toBe(view);
    expect(Array.from(backing)).toEqual([-1, -1, 0, 2, 4, 6, 8, 10, 12, 14, -1, -1]);
    const next = k(input) as Float32Array;
    expect(next).not.toBe(view);
    expect(Array.from(next)).toEqual([0, 2, 4, 6, 8, 10, 12, 14]);
    inner.outputTarget = new Float32Array(3);
    expect(Array.from(k(input) as Float32Array)).toEqual([0, 2, 4, 6, 8, 10, 12, 14]);
  });
});

describe('gpujsPatched', () => {
  it('is true for the installed gpu.js and false for an unpatched or missing code generator', () => {
    expect(gpujsPatched()).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'charlm-patch-'));
    try {
      const plain = join(dir, 'function-node.js');
      writeFileSync(plain, 'vLaneCall1(name, argLocal) {}');
      expect(gpujsPatched(plain)).toBe(false);
      expect(gpujsPatched(join(dir, 'missing.js'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('webasm active-entry fast path (patched gpu.js)', () => {
  it('keeps the compiled entry for fresh flat arrays of the same lengths, and still sees a changed size or shape', () => {
    const k = gpu.createKernel(function (a: number[], b: number[]) {
      return a[this.thread.x] * 10 + b[this.thread.x];
    }, { output: [6], precision: 'single' });
    const inner = k.kernel as unknown as { _active: unknown };
    const run = (a: ArrayLike<number>, b: ArrayLike<number>): number[] => Array.from(k(a as number[], b as number[]) as Float32Array);
    expect(run(Float32Array.of(1, 2, 3, 4, 5, 6), new Float32Array(6))).toEqual([10, 20, 30, 40, 50, 60]);
    const entry = inner._active;
    // fresh arrays (and views) of the same lengths: same entry, their own values
    const backing = Float32Array.of(9, 1, 1, 1, 1, 1, 1, 9);
    expect(run(Float32Array.of(0, 0, 0, 0, 0, 7), backing.subarray(1, 7))).toEqual([1, 1, 1, 1, 1, 71]);
    expect(inner._active).toBe(entry);
    // a longer argument is still refused, as without the fast path
    expect(() => run(new Float32Array(7), new Float32Array(6))).toThrow(/changed size/);
  });
});
