import { gateCount, layerInputSize, type ModelConfig } from '../../src/model/config.js';
import { paramLayout } from '../../src/model/params.js';
import type { RecurrentState } from '../../src/model/state.js';
import type { DropoutMasks, Window } from '../../src/model/network.js';

/**
 * The model's loss in float64 plain JavaScript, written straight from the
 * equations and sharing no code with the kernels: the reference that central
 * finite differences are taken on. Same layouts as the Network: time-major
 * windows, PyTorch parameter names and gate orders; a window's keep mask
 * zeroes the state entering a step where it is 0.
 */
export function referenceLoss(
  config: ModelConfig,
  params: Float64Array,
  window: Window,
  state: RecurrentState,
  B: number,
  T: number,
  masks: DropoutMasks | null = null,
): number {
  const layout = paramLayout(config);
  const P = new Map(layout.specs.map((s) => [s.name, params.subarray(s.offset, s.offset + s.size)]));
  const H = config.hidden;
  const V = config.vocabSize;
  const G = gateCount(config.cell) * H;
  const sig = (x: number): number => 1 / (1 + Math.exp(-x));
  // inputs[t*B + b] is that position's input vector for the current layer
  let inputs: Float64Array[] = [];
  for (let i = 0; i < T * B; i++) {
    const tok = window.tokens[i];
    if (config.embed > 0) {
      inputs.push(P.get('embedding.weight')!.slice(tok * config.embed, (tok + 1) * config.embed));
    } else {
      const x = new Float64Array(V);
      x[tok] = 1;
      inputs.push(x);
    }
  }
  for (let l = 0; l < config.layers; l++) {
    const In = layerInputSize(config, l);
    const Wih = P.get(`rnn.weight_ih_l${l}`)!;
    const Whh = P.get(`rnn.weight_hh_l${l}`)!;
    const bih = P.get(`rnn.bias_ih_l${l}`)!;
    const bhh = P.get(`rnn.bias_hh_l${l}`)!;
    const outputs: Float64Array[] = [];
    for (let b = 0; b < B; b++) {
      let h = Float64Array.from(state.h[l].subarray(b * H, (b + 1) * H));
      let c = state.c ? Float64Array.from(state.c[l].subarray(b * H, (b + 1) * H)) : new Float64Array(H);
      for (let t = 0; t < T; t++) {
        // A reset: the step starts from zero state, as a document does.
        if (window.keep && window.keep[t * B + b] === 0) {
          h = new Float64Array(H);
          c = new Float64Array(H);
        }
        const x = inputs[t * B + b];
        const xp = new Float64Array(G);
        const hp = new Float64Array(G);
        for (let g = 0; g < G; g++) {
          let sx = bih[g];
          for (let k = 0; k < In; k++) sx += Wih[g * In + k] * x[k];
          let sh = bhh[g];
          for (let k = 0; k < H; k++) sh += Whh[g * H + k] * h[k];
          xp[g] = sx;
          hp[g] = sh;
        }
        const hNew = new Float64Array(H);
        const cNew = new Float64Array(H);
        for (let u = 0; u < H; u++) {
          if (config.cell === 'lstm') {
            const i = sig(xp[u] + hp[u]);
            const f = sig(xp[H + u] + hp[H + u]);
            const gg = Math.tanh(xp[2 * H + u] + hp[2 * H + u]);
            const o = sig(xp[3 * H + u] + hp[3 * H + u]);
            cNew[u] = f * c[u] + i * gg;
            hNew[u] = o * Math.tanh(cNew[u]);
          } else if (config.cell === 'gru') {
            const r = sig(xp[u] + hp[u]);
            const z = sig(xp[H + u] + hp[H + u]);
            const n = Math.tanh(xp[2 * H + u] + r * hp[2 * H + u]);
            hNew[u] = (1 - z) * n + z * h[u];
          } else {
            hNew[u] = Math.tanh(xp[u] + hp[u]);
          }
        }
        h = hNew;
        c = cNew;
        outputs[t * B + b] = h;
      }
    }
    const mask = l + 1 < config.layers && masks ? masks[l] : null;
    inputs = outputs.map((h, i) => (mask ? h.map((v, u) => v * mask[i * H + u]) : h));
  }
  const Wd = P.get('decoder.weight')!;
  const bd = P.get('decoder.bias')!;
  let loss = 0;
  for (let i = 0; i < T * B; i++) {
    const h = inputs[i];
    const logits = new Float64Array(V);
    for (let v = 0; v < V; v++) {
      let s = bd[v];
      for (let u = 0; u < H; u++) s += Wd[v * H + u] * h[u];
      logits[v] = s;
    }
    const mx = Math.max(...logits);
    let z = 0;
    for (let v = 0; v < V; v++) z += Math.exp(logits[v] - mx);
    loss += window.weights[i] * (mx + Math.log(z) - logits[window.targets[i]]);
  }
  return loss;
}

/** Central differences of referenceLoss with respect to every parameter, in float64. */
export function finiteDifferenceGradient(
  params: Float64Array,
  loss: (p: Float64Array) => number,
  eps: number,
): Float64Array {
  const grad = new Float64Array(params.length);
  const p = params.slice();
  for (let i = 0; i < p.length; i++) {
    const keep = p[i];
    p[i] = keep + eps;
    const up = loss(p);
    p[i] = keep - eps;
    const down = loss(p);
    p[i] = keep;
    grad[i] = (up - down) / (2 * eps);
  }
  return grad;
}
