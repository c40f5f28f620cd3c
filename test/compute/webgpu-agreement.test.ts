import { describe, it } from 'vitest';
import { agreementSuite } from '../support/agreement.js';
import { webgpuAvailable } from '../support/backends.js';

if (await webgpuAvailable()) {
  agreementSuite('webgpu');
} else {
  describe('webgpu agrees with cpu', () => {
    it.skip('no WebGPU adapter answers on this machine', () => {});
  });
}
