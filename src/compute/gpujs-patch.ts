import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/** A name only the patched code generator defines (src/compute/patches/gpu.js+2.24.1.patch). */
const MARKER = 'function emitInlineExp(';

const codeGenerator = (): string => createRequire(import.meta.url).resolve('gpu.js/src/backend/web-assembly/function-node.js');

/**
 * Whether `npm install` applied charlm's patch to gpu.js's webasm code generator
 * (it runs as a postinstall script, so `--ignore-scripts` skips it). Unpatched,
 * every kernel still computes the same values, only slower, so the backend
 * report says so rather than failing.
 */
export function gpujsPatched(file: string = codeGenerator()): boolean {
  try {
    return readFileSync(file, 'utf8').includes(MARKER);
  } catch {
    return false;
  }
}
