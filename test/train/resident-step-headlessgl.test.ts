import { residentStepSuite } from '../support/resident-step-suite.js';

// headless GL runs the plan through gpu.js's generic executor, the carried
// tensors held as textures between calls (its own process: Dawn's EGL and
// headless-gl's GLX cannot share one on Mesa).
residentStepSuite('headlessgl', 'generic');
