import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Compute } from '../../src/compute/backend.js';
import { Network } from '../../src/model/network.js';
import { views } from '../../src/model/params.js';
import { REQUIRED_BACKENDS, openBackend } from '../support/backends.js';
import { relativeError } from '../support/compare.js';
import {
  caseConfig,
  caseLogitsTimeMajor,
  caseParams,
  caseState,
  caseWindow,
  torchCases,
} from '../support/torch-fixture.js';

// PyTorch (float64) exported these with identical weights, see test/fixtures/export_torch.py.
// Measured float32 agreement is ≤ 4e-7; the issue asks for 1e-4, asserted tighter here.
const TOLERANCE = 1e-5;

for (const backend of REQUIRED_BACKENDS) {
  describe(`PyTorch parity on ${backend}`, () => {
    let compute: Compute;
    beforeAll(async () => {
      compute = await openBackend(backend);
    });
    afterAll(() => compute?.runner.destroy());

    for (const c of torchCases()) {
      it(`${c.name}: logits, loss, final state and every gradient`, async () => {
        const net = new Network(compute.runner, caseConfig(c), c.batch, c.seq);
        const forward = await net.forward(caseParams(c), caseWindow(c), caseState(c));
        expect(Math.abs(forward.loss - c.loss) / c.loss).toBeLessThan(TOLERANCE);
        expect(relativeError(forward.logits, caseLogitsTimeMajor(c))).toBeLessThan(TOLERANCE);
        const flat = (s: readonly Float32Array[]): number[] => s.flatMap((a) => Array.from(a));
        expect(relativeError(flat(forward.state.h), c.hN.flat(2))).toBeLessThan(TOLERANCE);
        if (c.cN) expect(relativeError(flat(forward.state.c!), c.cN.flat(2))).toBeLessThan(TOLERANCE);

        const grads = views(net.layout, await net.backward(forward.trace));
        expect(new Set(net.layout.specs.map((s) => s.name))).toEqual(new Set(Object.keys(c.grads)));
        for (const s of net.layout.specs) {
          expect(relativeError(grads.get(s.name)!, c.grads[s.name].data), s.name).toBeLessThan(TOLERANCE);
        }
      });
    }
  });
}
