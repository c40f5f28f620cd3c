import { webgpuAvailable } from '../support/backends.js';
import { residentStepSuite } from '../support/resident-step-suite.js';

// webgpu compiles the step to gpu.js's fused encoder: one submit and one readback.
residentStepSuite('webgpu', 'fused-encoder', await webgpuAvailable());
