/// <reference lib="dom" />
// The ES module `charlm export --js` writes: the model description is compiled
// in, the weights are fetched from the file written beside it.
import { openBrowserBackend, type BrowserRequest } from './backend.js';
import { BrowserModel } from './browser-model.js';
import { littleEndianFloats, WEIGHTS_FILE, type EmbeddedModel } from './embedded.js';

export { BrowserModel } from './browser-model.js';
export type { GenerateRequest, GenerateResult, TextSink } from './browser-model.js';
export type { BrowserMode, BrowserRequest } from './backend.js';

/** Set by the exporter's bundler (esbuild `define`) to the checkpoint's model description. */
declare const CHARLM_EMBEDDED: EmbeddedModel;

export interface LoadModelOptions {
  /** Where the weights are [default: charlm-model.bin beside this module]. */
  readonly weights?: string | URL;
  /** gpu.js mode, or the first that works [default: auto]. */
  readonly backend?: BrowserRequest;
}

/** Fetches the weights and opens a gpu.js backend; the model then generates as the exported page does. */
export async function loadModel(options: LoadModelOptions = {}): Promise<BrowserModel> {
  const url = options.weights ?? new URL(WEIGHTS_FILE, import.meta.url);
  const response = await fetch(url);
  if (!response.ok) throw new Error(`Could not fetch the weights from ${String(url)}: ${response.status} ${response.statusText}.`);
  const params = littleEndianFloats(new Uint8Array(await response.arrayBuffer()));
  return new BrowserModel(CHARLM_EMBEDDED, params, await openBrowserBackend(options.backend ?? 'auto'));
}
