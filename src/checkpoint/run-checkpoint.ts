import { readFile } from 'node:fs/promises';
import { CELL_TYPES, type ModelConfig } from '../model/config.js';
import { paramLayout } from '../model/params.js';
import type { RecurrentState } from '../model/state.js';
import { writeFileAtomic } from './atomic.js';
import { CheckpointError } from './errors.js';
import { decodeSafetensors, encodeSafetensors, type Tensors } from './safetensors.js';

/** Bumped whenever what a checkpoint holds changes meaning; older readers refuse newer files. */
export const FORMAT_VERSION = 1;
const FORMAT = 'charlm';

/** Optimizer memory: Adam's moments (exp_avg, exp_avg_sq) or SGD's velocity (exp_avg only). */
export interface StoredOptimizer {
  readonly kind: string;
  readonly step: number;
  readonly first: Float32Array;
  readonly second: Float32Array | null;
}

/**
 * Everything a run needs to continue exactly where it stopped. Parts owned by
 * other layers (vocabulary, training configuration, progress) travel as JSON
 * values that those layers validate when they read them back.
 */
export interface CheckpointContents {
  readonly model: ModelConfig;
  readonly params: Float32Array;
  readonly optimizer: StoredOptimizer;
  /** Hidden state carried into the next training window. */
  readonly state: RecurrentState;
  readonly batch: number;
  readonly vocab: unknown;
  readonly training: unknown;
  readonly progress: unknown;
  readonly corpus: unknown;
}

const stateName = (kind: 'h' | 'c', layer: number): string => `state.${kind}_l${layer}`;

/** Weights under PyTorch's own names, so `safetensors.torch.load_file` gives a loadable state_dict. */
export function encodeCheckpoint(c: CheckpointContents): Buffer {
  const layout = paramLayout(c.model);
  const tensors: Tensors = {};
  for (const s of layout.specs) tensors[s.name] = { shape: [...s.shape], data: c.params.subarray(s.offset, s.offset + s.size) };
  for (const s of layout.specs) {
    tensors[`optimizer.exp_avg.${s.name}`] = { shape: [...s.shape], data: c.optimizer.first.subarray(s.offset, s.offset + s.size) };
    if (c.optimizer.second) {
      tensors[`optimizer.exp_avg_sq.${s.name}`] = { shape: [...s.shape], data: c.optimizer.second.subarray(s.offset, s.offset + s.size) };
    }
  }
  const stateShape = [c.batch, c.model.hidden];
  c.state.h.forEach((h, l) => (tensors[stateName('h', l)] = { shape: stateShape, data: h }));
  c.state.c?.forEach((cell, l) => (tensors[stateName('c', l)] = { shape: stateShape, data: cell }));
  const metadata: Record<string, string> = {
    format: FORMAT,
    format_version: String(FORMAT_VERSION),
    model: JSON.stringify(c.model),
    optimizer: JSON.stringify({ kind: c.optimizer.kind, step: c.optimizer.step }),
    batch: String(c.batch),
    vocab: JSON.stringify(c.vocab),
    training: JSON.stringify(c.training),
    progress: JSON.stringify(c.progress),
    corpus: JSON.stringify(c.corpus),
  };
  return encodeSafetensors(tensors, metadata);
}

/** Atomic: a crash leaves the previous file, never a partial one, under `path`. */
export async function saveCheckpoint(path: string, c: CheckpointContents): Promise<void> {
  if (!c.params.every(Number.isFinite)) {
    throw new CheckpointError(`Refusing to write ${path}: the weights contain NaN or infinity.`, { file: path });
  }
  await writeFileAtomic(path, encodeCheckpoint(c));
}

/** The bytes of a checkpoint file; a missing, unreadable or folder path is one CheckpointError sentence. */
export async function readCheckpointFile(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a folder' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
    throw new CheckpointError(`Cannot read checkpoint ${path}: ${why}.`, { file: path, cause: e });
  }
}

export async function loadCheckpoint(path: string): Promise<CheckpointContents> {
  return decodeCheckpoint(await readCheckpointFile(path), path);
}

export function decodeCheckpoint(buf: Buffer, path: string): CheckpointContents {
  const { tensors, metadata } = decodeSafetensors(buf, path);
  const bad = (why: string): CheckpointError => new CheckpointError(`${path} is not a usable charlm checkpoint: ${why}.`, { file: path });
  if (metadata.format !== FORMAT) throw bad('its metadata does not say it was written by charlm');
  const version = Number(metadata.format_version);
  if (!Number.isInteger(version) || version < 1) throw bad(`its format version "${metadata.format_version}" is not a version number`);
  if (version > FORMAT_VERSION) {
    throw new CheckpointError(
      `${path} uses checkpoint format version ${version}, newer than the ${FORMAT_VERSION} this charlm reads; upgrade charlm.`,
      { file: path },
    );
  }
  const json = (key: string): unknown => {
    if (metadata[key] === undefined) throw bad(`its metadata lacks "${key}"`);
    try {
      return JSON.parse(metadata[key]);
    } catch {
      throw bad(`its metadata entry "${key}" is not valid JSON`);
    }
  };
  const model = validModelConfig(json('model'), bad);
  const optimizerMeta = json('optimizer') as { kind?: unknown; step?: unknown };
  if (typeof optimizerMeta?.kind !== 'string' || !Number.isSafeInteger(optimizerMeta.step) || (optimizerMeta.step as number) < 0) {
    throw bad('its optimizer metadata is malformed');
  }
  const batch = Number(metadata.batch);
  if (!Number.isSafeInteger(batch) || batch < 1) throw bad('its batch size is missing or not a positive whole number');

  const layout = paramLayout(model);
  const expected = new Map<string, number[]>();
  for (const s of layout.specs) expected.set(s.name, [...s.shape]);
  const hasSecond = Object.keys(tensors).some((n) => n.startsWith('optimizer.exp_avg_sq.'));
  for (const s of layout.specs) {
    expected.set(`optimizer.exp_avg.${s.name}`, [...s.shape]);
    if (hasSecond) expected.set(`optimizer.exp_avg_sq.${s.name}`, [...s.shape]);
  }
  for (let l = 0; l < model.layers; l++) {
    expected.set(stateName('h', l), [batch, model.hidden]);
    if (model.cell === 'lstm') expected.set(stateName('c', l), [batch, model.hidden]);
  }
  for (const [name, shape] of expected) {
    const t = tensors[name];
    if (!t) throw bad(`tensor "${name}" is missing`);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw bad(`tensor "${name}" has shape [${t.shape.join(', ')}] where the model needs [${shape.join(', ')}]`);
    }
  }
  for (const name of Object.keys(tensors)) if (!expected.has(name)) throw bad(`it holds an unexpected tensor "${name}"`);

  const gather = (prefix: string): Float32Array => {
    const out = new Float32Array(layout.total);
    for (const s of layout.specs) out.set(tensors[`${prefix}${s.name}`].data, s.offset);
    return out;
  };
  const params = gather('');
  if (!params.every(Number.isFinite)) throw bad('its weights contain NaN or infinity');
  const layers = Array.from({ length: model.layers }, (_, l) => l);
  return {
    model,
    params,
    optimizer: {
      kind: optimizerMeta.kind,
      step: optimizerMeta.step as number,
      first: gather('optimizer.exp_avg.'),
      second: hasSecond ? gather('optimizer.exp_avg_sq.') : null,
    },
    state: {
      h: layers.map((l) => tensors[stateName('h', l)].data),
      c: model.cell === 'lstm' ? layers.map((l) => tensors[stateName('c', l)].data) : null,
    },
    batch,
    vocab: json('vocab'),
    training: json('training'),
    progress: json('progress'),
    corpus: json('corpus'),
  };
}

function validModelConfig(value: unknown, bad: (why: string) => CheckpointError): ModelConfig {
  const v = value as Partial<Record<keyof ModelConfig, unknown>> | null;
  if (typeof v !== 'object' || v === null) throw bad('its model configuration is not an object');
  if (!CELL_TYPES.includes(v.cell as ModelConfig['cell'])) throw bad(`its cell type ${JSON.stringify(v.cell)} is not one of ${CELL_TYPES.join(', ')}`);
  const whole = (key: 'vocabSize' | 'embed' | 'hidden' | 'layers', min: number): number => {
    const n = v[key];
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < min) throw bad(`its model ${key} ${JSON.stringify(n)} is not a whole number of at least ${min}`);
    return n;
  };
  const dropout = v.dropout;
  if (typeof dropout !== 'number' || !(dropout >= 0 && dropout < 1)) throw bad(`its dropout ${JSON.stringify(dropout)} is not in [0, 1)`);
  return {
    cell: v.cell as ModelConfig['cell'],
    vocabSize: whole('vocabSize', 1),
    embed: whole('embed', 0),
    hidden: whole('hidden', 1),
    layers: whole('layers', 1),
    dropout,
  };
}
