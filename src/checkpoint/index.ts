export { CheckpointError } from './errors.js';
export { encodeSafetensors, decodeSafetensors, CHECKSUMS_KEY, type Tensor, type Tensors, type Safetensors } from './safetensors.js';
export { writeFileAtomic } from './atomic.js';
