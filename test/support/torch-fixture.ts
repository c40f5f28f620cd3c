import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { CellType, ModelConfig } from '../../src/model/config.js';
import { paramLayout } from '../../src/model/params.js';
import type { RecurrentState } from '../../src/model/state.js';
import type { Window } from '../../src/model/network.js';

interface Named { shape: number[]; data: number[] }

/** One case of test/fixtures/torch-parity.json (written by export_torch.py, float64 PyTorch). */
export interface TorchCase {
  name: string;
  cell: CellType;
  vocab: number;
  embed: number;
  hidden: number;
  layers: number;
  batch: number;
  seq: number;
  tokens: number[][];
  targets: number[][];
  h0: number[][][];
  c0?: number[][][];
  params: Record<string, Named>;
  logits: Named;
  loss: number;
  grads: Record<string, Named>;
  hN: number[][][];
  cN?: number[][][];
}

export function torchCases(): TorchCase[] {
  const path = fileURLToPath(new URL('../fixtures/torch-parity.json', import.meta.url));
  return (JSON.parse(readFileSync(path, 'utf8')) as { cases: TorchCase[] }).cases;
}

export function caseConfig(c: TorchCase): ModelConfig {
  return { cell: c.cell, vocabSize: c.vocab, embed: c.embed, hidden: c.hidden, layers: c.layers, dropout: 0 };
}

/** The case's parameters in charlm's contiguous layout. */
export function caseParams(c: TorchCase): Float32Array {
  const layout = paramLayout(caseConfig(c));
  const data = new Float32Array(layout.total);
  for (const s of layout.specs) {
    const t = c.params[s.name];
    if (!t || t.data.length !== s.size) throw new Error(`fixture ${c.name} lacks ${s.name} of size ${s.size}`);
    data.set(t.data, s.offset);
  }
  return data;
}

/** PyTorch is batch-first [B][T]; charlm windows are time-major (t*B + b). */
export function timeMajor(rows: number[][]): Float32Array {
  const B = rows.length;
  const T = rows[0].length;
  const out = new Float32Array(B * T);
  for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) out[t * B + b] = rows[b][t];
  return out;
}

export function caseWindow(c: TorchCase): Window {
  const n = c.batch * c.seq;
  return { tokens: timeMajor(c.tokens), targets: timeMajor(c.targets), weights: new Float32Array(n).fill(1 / n) };
}

export function caseState(c: TorchCase): RecurrentState {
  const flat = (s: number[][][]): Float32Array[] => s.map((layer) => Float32Array.from(layer.flat()));
  return { h: flat(c.h0), c: c.c0 ? flat(c.c0) : null };
}

/** Logits [B, T, V] batch-first → time-major [T*B, V]. */
export function caseLogitsTimeMajor(c: TorchCase): Float64Array {
  const { batch: B, seq: T, vocab: V } = c;
  const out = new Float64Array(B * T * V);
  for (let b = 0; b < B; b++)
    for (let t = 0; t < T; t++)
      for (let v = 0; v < V; v++) out[(t * B + b) * V + v] = c.logits.data[(b * T + t) * V + v];
  return out;
}
