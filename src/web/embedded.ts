import type { DocumentMode } from '../data/documents.js';
import type { CharVocabJSON } from '../data/vocab.js';
import type { ModelConfig } from '../model/config.js';

/**
 * What an exported page or module carries besides the weights: enough to
 * rebuild the vocabulary and the network in the browser and to label the page.
 */
export interface EmbeddedModel {
  /** The checkpoint's run folder and file name, for the page title. */
  readonly name: string;
  readonly model: ModelConfig;
  readonly vocab: CharVocabJSON;
  /** How the corpus was cut into documents (`--documents`), or null for one continuous text. */
  readonly documents: DocumentMode | null;
  readonly step: number;
  /** `charlm sample`'s default seed and the largest it takes, so the page's seed field means what `--seed` means. */
  readonly seed: { readonly default: number; readonly max: number };
}

/** Element ids of the page's embedded data, shared by the exporter that writes them and the page that reads them. */
export const MODEL_ELEMENT = 'charlm-model';
export const WEIGHTS_ELEMENT = 'charlm-weights';

/** What `charlm export --js` writes into its folder; the module finds the weights beside itself. */
export const MODULE_FILE = 'charlm-model.js';
export const WEIGHTS_FILE = 'charlm-model.bin';

/** The weights as the checkpoint stores them (little-endian float32), from the page's base64 text. */
export function decodeWeights(base64: string): Float32Array {
  const binary = atob(base64.trim());
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return littleEndianFloats(bytes);
}

/**
 * A Float32Array over little-endian bytes. Every browser that runs gpu.js is
 * little-endian, so the bytes are used as they are; the copy gives the array
 * its own 4-byte-aligned buffer.
 */
export function littleEndianFloats(bytes: Uint8Array): Float32Array {
  if (bytes.length % 4 !== 0) throw new RangeError(`The weights hold ${bytes.length} bytes, not a whole number of float32 values.`);
  return new Float32Array(bytes.slice().buffer);
}
