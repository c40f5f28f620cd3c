import { GPU } from 'gpu.js';
import { afterAll, describe, expect, it } from 'vitest';

// patches/gpu.js+2.24.1.patch makes webasm compute Math.exp inline in WebAssembly
// instead of calling JS once per lane; this pins both the speed-relevant fact
// (no JS call) and the accuracy that the backend-agreement tests rely on.
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
