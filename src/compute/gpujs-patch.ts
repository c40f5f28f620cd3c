import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/** Names only the patched code generator defines (src/compute/patches/gpu.js+2.24.1.patch): the inline exp and the unit-stride read. */
const MARKERS = ['function emitInlineExp(', 'vUnitStrideRead('];

const codeGenerator = (): string => createRequire(import.meta.url).resolve('gpu.js/src/backend/web-assembly/function-node.js');

/**
 * Whether `npm install` applied charlm's patch to gpu.js's webasm code generator
 * (it runs as a postinstall script, so `--ignore-scripts` skips it). Unpatched,
 * every kernel still computes the same values, only slower, so the backend
 * report says so rather than failing.
 */
export function gpujsPatched(file: string = codeGenerator()): boolean {
  try {
    const source = readFileSync(file, 'utf8');
    return MARKERS.every((m) => source.includes(m));
  } catch {
    return false;
  }
}
