import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { EmbeddedModel } from '../web/embedded.js';

// Run from the sources (tsx, vitest) the browser entries are .ts files; from the compiled package, their .js.
const EXT = import.meta.url.endsWith('.ts') ? '.ts' : '.js';

/** A file of src/web (or dist/web), which sits beside this file's folder in both. */
export function webFile(name: string): string {
  return fileURLToPath(new URL(`../web/${name}`, import.meta.url));
}

/**
 * gpu.js's own browser build, bundled in place of the Node package: the Node
 * entry pulls in headless-gl, Dawn and worker threads, none of which a browser has.
 */
const GPU_BROWSER = createRequire(import.meta.url).resolve('gpu.js/dist/gpu-browser.min.js');

export type BrowserEntry = 'page' | 'module';

/**
 * The browser entry `entry` with everything it imports, as one script: the
 * page as an inline classic script, the module as an ES module. The module's
 * model description is compiled in as the constant CHARLM_EMBEDDED.
 */
export async function bundleBrowser(entry: BrowserEntry, embedded?: EmbeddedModel): Promise<string> {
  const result = await build({
    entryPoints: [webFile(`${entry}${EXT}`)],
    bundle: true,
    write: false,
    format: entry === 'page' ? 'iife' : 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    legalComments: 'inline',
    alias: { 'gpu.js': GPU_BROWSER },
    define: embedded ? { CHARLM_EMBEDDED: JSON.stringify(embedded) } : {},
    logLevel: 'silent',
  });
  // write: false always hands the output back.
  return (result.outputFiles ?? [])[0].text;
}
