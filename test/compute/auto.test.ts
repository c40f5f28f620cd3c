import { describe, expect, it } from 'vitest';
import { describeBackend, selectBackend } from '../../src/compute/backend.js';

// This machine (and CI) has no GPU: webgpu answers only through llvmpipe and
// headless GL has no display in this process, so auto must settle on webasm
// and say what it passed over and why.
describe('--backend auto without a GPU', () => {
  it('picks webasm and names the software adapters it passed over', async () => {
    delete process.env.DISPLAY;
    const compute = await selectBackend('auto');
    try {
      expect(compute.backend).toBe('webasm');
      expect(compute.probes.map((p) => p.backend)).toEqual(['webgpu', 'headlessgl', 'webasm']);
      expect(compute.probes.every((p) => !p.hardware)).toBe(true);
      const line = describeBackend(compute);
      expect(line).toMatch(/^webasm \+ wasm-gemm \(/);
      expect(line).toMatch(/passed over webgpu: .*headlessgl: No X display/);
    } finally {
      compute.runner.destroy();
    }
  });
});
