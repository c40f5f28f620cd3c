import { agreementSuite } from '../support/agreement.js';

// A file of its own: Dawn's EGL context (webgpu) and headless-gl's GLX context
// cannot share one process on Mesa (X_GLXMakeCurrent fails with BadAccess).
agreementSuite('headlessgl');
