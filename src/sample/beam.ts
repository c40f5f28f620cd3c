import type { KernelRunner } from '../compute/kernels.js';
import type { ModelConfig } from '../model/config.js';
import { Network } from '../model/network.js';
import { zeroState, type RecurrentState } from '../model/state.js';
import { DevicePredictor } from './device-predictor.js';
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
 * One step of every beam: row b reads tokens[b], continuing the state of row
 * from[b], or a zero state where keep[b] is false; the logits [width, V].
 */
type BeamStep = (tokens: Float32Array, from: readonly number[], keep: readonly boolean[]) => Promise<Float32Array>;

/**
 * Beam search for the likeliest continuation of `prime`: every beam is a row
 * of one batch-`width` network, so all of them step in one call (on webgpu
 * one pipeline call: one submit and one readback of the width × V logits,
 * the states forking on the device). Each step
 * extends every beam by every allowed symbol and keeps the `width` likeliest;
 * a continuation that ends (or reaches `length`) is set aside, and the search
 * stops once the best of those beats every open beam, which can only lose
 * probability from there. Returns the best finished continuation.
 */
export async function beamSearch(runner: KernelRunner, model: ModelConfig, params: Float32Array, prime: Int32Array, search: BeamSearch): Promise<Drawn[]> {
  if (DevicePredictor.runsOn(runner)) {
    const device = new DevicePredictor(runner, model, search.width);
    device.load(params);
    device.setState(zeroState(model, search.width));
    const step: BeamStep = (tokens, from, keep) => device.step(tokens, Float32Array.from(from), Float32Array.from(keep, (k) => (k ? 1 : 0)));
    try {
      return await searchBeams(step, model.vocabSize, prime, search);
    } finally {
      device.destroy();
    }
  }
  // The weights stay as they are for the whole search, so wasm-gemm keeps them packed between symbols.
  runner.pin(params);
  try {
    return await searchBeams(await hostStep(runner, model, params, search.width), model.vocabSize, prime, search);
  } finally {
    runner.unpin(params);
  }
}

async function hostStep(runner: KernelRunner, model: ModelConfig, params: Float32Array, width: number): Promise<BeamStep> {
  const network = new Network(runner, model, width, 1);
  const table = await network.inputTable(params);
  let state = zeroState(model, width);
  return async (tokens, from, keep) => {
    const next = await network.predict(params, tokens, startRows(state, from, keep, model.hidden, width), table);
    state = next.state;
    return next.logits;
  };
}

async function searchBeams(step: BeamStep, V: number, prime: Int32Array, search: BeamSearch): Promise<Drawn[]> {
  const { width, length } = search;
  const banned = search.banned;
  const ended = search.ended ?? (() => false);
  // A row starting a document (its symbol the document start) starts from a zero state.
  const keepUnlessStart = (tokens: Float32Array, open: number): boolean[] => Array.from(tokens, (id, row) => row < open && id !== search.documentStart);
  const rows = Array.from({ length: width }, (_, row) => row);

  // Every row reads the prime; only row 0 starts a beam, so the first step does not fill the beam with copies.
  let logits: Float32Array = new Float32Array(width * V);
  for (const id of prime) {
    const tokens = new Float32Array(width).fill(id);
    logits = await step(tokens, rows, keepUnlessStart(tokens, width));
  }
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
    const from = rows.map((row) => next[row]?.row ?? 0);
    beams = next.map((h, row) => ({ ...h, row }));
    const tokens = new Float32Array(width);
    for (const h of beams) tokens[h.row] = h.ids[h.ids.length - 1];
    logits = await step(tokens, from, keepUnlessStart(tokens, next.length));
  }
  if (best === null) return [];
  const { ids, logProbs } = best;
  return ids.map((id, i) => ({ id, logProb: logProbs[i] }));
}

function better(a: Hypothesis | null, b: Hypothesis): Hypothesis {
  return a === null || b.score > a.score ? b : a;
}

/** The state a step starts from: row r is row from[r] of `state`, or zeros where keep[r] is false. */
function startRows(state: RecurrentState, from: readonly number[], keep: readonly boolean[], H: number, batch: number): RecurrentState {
  const gather = (a: Float32Array): Float32Array => {
    const out = new Float32Array(batch * H);
    from.forEach((row, to) => {
      if (keep[to]) out.set(a.subarray(row * H, (row + 1) * H), to * H);
    });
    return out;
  };
  return { h: state.h.map(gather), c: state.c ? state.c.map(gather) : null };
}
