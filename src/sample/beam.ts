import type { KernelRunner } from '../compute/kernels.js';
import type { ModelConfig } from '../model/config.js';
import { Network } from '../model/network.js';
import { zeroState, type RecurrentState } from '../model/state.js';
import type { Constraint } from './ngram.js';
import type { Drawn } from './sampler.js';
import { logSoftmax } from './strategy.js';

export interface BeamSearch {
  readonly width: number;
  /** Symbols to generate; a continuation that ends earlier (see `ended`) stops there. */
  readonly length: number;
  readonly banned?: Constraint;
  /** Whether a continuation has just ended (END drawn, a stop sequence matched). */
  readonly ended?: (ids: readonly number[]) => boolean;
  /** The id read from a zero state (END of a model trained on documents), as in `Sampler`. */
  readonly documentStart?: number | null;
}

const NONE: ReadonlySet<number> = new Set();

interface Hypothesis {
  readonly ids: readonly number[];
  readonly logProbs: readonly number[];
  /** Summed log-probability. */
  readonly score: number;
  /** Its row of the batch: where its hidden state and next logits are. */
  readonly row: number;
}

/**
 * Beam search for the likeliest continuation of `prime`: every beam is a row
 * of one batch-`width` network, so all of them step in one call. Each step
 * extends every beam by every allowed symbol and keeps the `width` likeliest;
 * a continuation that ends (or reaches `length`) is set aside, and the search
 * stops once the best of those beats every open beam, which can only lose
 * probability from there. Returns the best finished continuation.
 */
export async function beamSearch(runner: KernelRunner, model: ModelConfig, params: Float32Array, prime: Int32Array, search: BeamSearch): Promise<Drawn[]> {
  // The weights stay as they are for the whole search, so wasm-gemm keeps them packed between symbols.
  runner.pin(params);
  try {
    return await searchBeams(runner, model, params, prime, search);
  } finally {
    runner.unpin(params);
  }
}

async function searchBeams(runner: KernelRunner, model: ModelConfig, params: Float32Array, prime: Int32Array, search: BeamSearch): Promise<Drawn[]> {
  const { width, length } = search;
  const banned = search.banned;
  const ended = search.ended ?? (() => false);
  const V = model.vocabSize;
  const network = new Network(runner, model, width, 1);
  const table = await network.inputTable(params);
  const step = async (tokens: Float32Array, state: RecurrentState) => {
    const reset = Array.from(tokens.keys()).filter((row) => tokens[row] === search.documentStart);
    return network.predict(params, tokens, zeroRows(state, reset, model.hidden), table);
  };

  // Every row reads the prime; only row 0 starts a beam, so the first step does not fill the beam with copies.
  let state = zeroState(model, width);
  let logits: Float32Array = new Float32Array(width * V);
  for (const id of prime) ({ logits, state } = await step(new Float32Array(width).fill(id), state));
  let beams: Hypothesis[] = [{ ids: [], logProbs: [], score: 0, row: 0 }];
  let best: Hypothesis | null = null;

  for (let t = 0; t < length && beams.length > 0; t++) {
    const candidates: { parent: Hypothesis; id: number; logProb: number; score: number }[] = [];
    for (const parent of beams) {
      const logProbs = logSoftmax(logits.subarray(parent.row * V, (parent.row + 1) * V));
      const skip = banned ? banned([...prime, ...parent.ids]) : NONE;
      // A beam the guard leaves no symbol for ends where it is.
      if (skip.size >= V) best = better(best, parent);
      for (let id = 0; id < V; id++) if (!skip.has(id)) candidates.push({ parent, id, logProb: logProbs[id], score: parent.score + logProbs[id] });
    }
    // Ties go to the earlier beam, then the lower id, so the result never depends on the sort.
    candidates.sort((a, b) => b.score - a.score || a.parent.row - b.parent.row || a.id - b.id);
    const extend = (c: (typeof candidates)[number]): Hypothesis => ({
      ids: [...c.parent.ids, c.id],
      logProbs: [...c.parent.logProbs, c.logProb],
      score: c.score,
      row: c.parent.row,
    });
    if (t + 1 === length) {
      if (candidates.length > 0) best = better(best, extend(candidates[0]));
      break;
    }
    const next: Hypothesis[] = [];
    for (const c of candidates) {
      if (next.length === width) break;
      const h = extend(c);
      if (ended(h.ids)) best = better(best, h);
      else next.push(h);
    }
    if (best !== null && (next.length === 0 || best.score >= next[0].score)) break;
    // Beams fork: each new beam takes a copy of its parent's state, and its row is its place in `next`.
    state = gatherRows(state, next.map((h) => h.row), model.hidden, width);
    beams = next.map((h, row) => ({ ...h, row }));
    const tokens = new Float32Array(width);
    for (const h of beams) tokens[h.row] = h.ids[h.ids.length - 1];
    ({ logits, state } = await step(tokens, state));
  }
  if (best === null) return [];
  const { ids, logProbs } = best;
  return ids.map((id, i) => ({ id, logProb: logProbs[i] }));
}

function better(a: Hypothesis | null, b: Hypothesis): Hypothesis {
  return a === null || b.score > a.score ? b : a;
}

/** A state whose row r is row `rows[r]` of `state` (rows past `rows.length` are left zero: no beam uses them). */
function gatherRows(state: RecurrentState, rows: readonly number[], H: number, batch: number): RecurrentState {
  const gather = (a: Float32Array): Float32Array => {
    const out = new Float32Array(batch * H);
    rows.forEach((from, to) => out.set(a.subarray(from * H, (from + 1) * H), to * H));
    return out;
  };
  return { h: state.h.map(gather), c: state.c ? state.c.map(gather) : null };
}

/** `state` with the given rows zeroed (the state itself when there are none). */
function zeroRows(state: RecurrentState, rows: readonly number[], H: number): RecurrentState {
  if (rows.length === 0) return state;
  const zero = (a: Float32Array): Float32Array => {
    const out = a.slice();
    for (const row of rows) out.fill(0, row * H, (row + 1) * H);
    return out;
  };
  return { h: state.h.map(zero), c: state.c ? state.c.map(zero) : null };
}
