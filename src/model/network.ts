import * as K from '../compute/kernel-sources.js';
import type { KernelSource } from '../compute/kernel-sources.js';
import type { KernelRunner } from '../compute/kernels.js';
import { gateCount, layerInputSize, type ModelConfig } from './config.js';
import { paramLayout, views, type ParamLayout } from './params.js';
import type { RecurrentState } from './state.js';

/**
 * One window of B parallel streams over T steps, time-major: position t*B + b.
 * `weights` scales each position's loss: 1/(T·B) everywhere gives the mean
 * (training); 0 masks a padded position (evaluation of a ragged tail).
 * `keep`, when given, is 1 or 0 per position: 0 resets the hidden (and cell)
 * state entering that step to zero, as at the start of a document; without
 * it the state always carries on.
 */
export interface Window {
  readonly tokens: Float32Array;
  readonly targets: Float32Array;
  readonly weights: Float32Array;
  readonly keep?: Float32Array;
}

/** Inverted-dropout masks for the inputs of layers 1..L−1, each [T·B, H] of 0 or 1/(1−p). */
export type DropoutMasks = readonly Float32Array[];

/** What the backward sweep needs from one layer's forward pass. */
interface LayerTrace {
  /**
   * Layer input [N, In]; null for the one-hot first layer, whose input is the
   * token ids, and for an embedded first layer whose gradients go through the
   * token one-hot matrix (Network.viaTokens), which needs only the ids.
   */
  readonly input: Float32Array | null;
  /** Hidden outputs h_0..h_{T−1} [N, H]. */
  readonly hidden: Float32Array;
  /** h_{t−1} for every t [N, H] (h_{−1} is the carried-in state). */
  readonly hiddenPrev: Float32Array;
  /** Post-activation gates [N, G] (LSTM, GRU). */
  readonly gates: Float32Array | null;
  /** LSTM cell states c_t and c_{t−1} [N, H]. */
  readonly cell: Float32Array | null;
  readonly cellPrev: Float32Array | null;
  /** GRU recurrent projections h·W_hhᵀ + b_hh [N, G] (the reset gate multiplies their n block). */
  readonly recurrent: Float32Array | null;
}

/** What inference needs from a window: the logits and the state to carry on from. */
export interface Prediction {
  /** Logits [N, V]. */
  readonly logits: Float32Array;
  readonly state: RecurrentState;
}

export interface ForwardResult {
  /** Σ weights·nll over the window, in nats (the mean when weights are 1/N). */
  readonly loss: number;
  /** Per-position negative log-likelihood [N], nats. */
  readonly nll: Float32Array;
  /** Logits [N, V]. */
  readonly logits: Float32Array;
  /** State after the window, to carry into the next one. */
  readonly state: RecurrentState;
  readonly trace: ForwardTrace;
}

/**
 * A window's keep mask widened to the state's shape: `rows` [T·B, H], each
 * position's keep value repeated over its H units; `resets[t]` says whether
 * step t resets any stream (steps that reset none skip the multiplication).
 */
interface StateResets {
  readonly rows: Float32Array;
  readonly resets: readonly boolean[];
}

/** Opaque record of a forward pass, consumed by `backward`. */
export interface ForwardTrace {
  readonly params: Float32Array;
  readonly window: Window;
  readonly masks: DropoutMasks | null;
  readonly resets: StateResets | null;
  readonly layers: readonly LayerTrace[];
  readonly logits: Float32Array;
  readonly lse: Float32Array;
  /** The window-sized arrays this pass filled; backward hands them to the next forward. */
  readonly workspace: Workspace;
}

/**
 * Window-sized arrays by name, allocated once and refilled by later passes.
 * A fresh multi-megabyte array costs its first touch of every page (medium
 * LSTM: ~48 MB a step, ~3 µs a 4 KB page on this VM) and then garbage
 * collection; a forward pass's trace arrays and backward's gradient sweeps
 * are all overwritten completely before they are read, so reusing them is
 * exact.
 */
class Workspace {
  private readonly arrays = new Map<string, Float32Array>();

  get(name: string, length: number): Float32Array {
    let a = this.arrays.get(name);
    if (a?.length !== length) {
      a = new Float32Array(length);
      this.arrays.set(name, a);
    }
    return a;
  }
}

/** Kernel sources for one (config, B, T), built once so the hot loop only looks them up. */
function kernelSet(config: ModelConfig, B: number, T: number) {
  const N = B * T;
  const H = config.hidden;
  const V = config.vocabSize;
  const E = config.embed;
  const G = gateCount(config.cell) * H;
  const inputSizes = Array.from({ length: config.layers }, (_, k) => layerInputSize(config, k));
  return {
    embed: E > 0 ? K.gatherRows(N, E) : null,
    inputTable: E > 0 ? K.linearNT(V, G, E, false) : null,
    embedGrad: E > 0 ? K.scatterRows(N, E, V) : null,
    // layer 0's gradients through the token one-hot matrix (see backwardPass)
    tokenGrads: E > 0 ? K.matmulTN(N, V, G) : null,
    tokenWeightGrad: E > 0 ? K.matmulTN(V, G, E) : null,
    tokenEmbedGrad: E > 0 ? K.matmulNN(V, G, E, false) : null,
    oneHotProjection: E > 0 ? null : K.gatherColumnsBias(N, G, V),
    oneHotGrad: E > 0 ? null : K.scatterColumns(N, G, V),
    inputProjection: inputSizes.map((In) => K.linearNT(N, G, In, false)),
    inputGrad: inputSizes.map((In) => K.matmulNN(N, G, In, false)),
    inputWeightGrad: inputSizes.map((In) => K.matmulTN(N, G, In)),
    recurrent: K.linearNT(B, G, H, false),
    recurrentGrad: K.matmulNN(B, G, H, false),
    recurrentGradAdd: K.matmulNN(B, G, H, true),
    recurrentWeightGrad: K.matmulTN(N, G, H),
    gateBiasGrad: K.columnSum(N, G),
    dropout: K.multiply(N * H),
    keepState: K.multiply(B * H),
    lstmGates: K.lstmGates(B, H),
    lstmCell: K.lstmCell(B, H),
    lstmHidden: K.lstmHidden(B, H),
    lstmGatesBackward: K.lstmGatesBackward(B, H),
    lstmCellGrad: K.lstmCellGrad(B, H),
    lstmCellCarry: K.lstmCellCarry(B, H),
    gruGates: K.gruGates(B, H),
    gruHidden: K.gruHidden(B, H),
    gruInputBackward: K.gruGatesBackward(B, H, 0),
    gruRecurrentBackward: K.gruGatesBackward(B, H, 1),
    gruHiddenBackward: K.gruHiddenBackward(B, H),
    rnnHidden: K.rnnHidden(B, H),
    lstmStep: K.lstmStep(B, H),
    gruStep: K.gruStep(B, H),
    rnnHiddenBackward: K.rnnHiddenBackward(B, H),
    decoder: K.linearNT(N, V, H, false),
    decoderGrad: K.matmulNN(N, V, H, false),
    decoderWeightGrad: K.matmulTN(N, V, H),
    decoderBiasGrad: K.columnSum(N, V),
    logSumExp: K.rowLogSumExp(N, V),
    nll: K.nll(N, V),
    lossGrad: K.softmaxCrossEntropyBackward(N, V),
  };
}

/**
 * Embedding → L stacked cells → linear → softmax cross-entropy, forward and
 * backward through time for a fixed window shape. Every tensor operation is a
 * gpu.js kernel (products may run on wasm-gemm); the host only slices,
 * concatenates, copies rows of the first layer's vocabulary table and sums the
 * final losses.
 *
 * Shape of the step: a whole window's input projection is one product
 * ([T·B, In]·W_ihᵀ); only h·W_hhᵀ runs per timestep; weight gradients are one
 * product over the window after the backward sweep.
 */
export class Network {
  readonly layout: ParamLayout;
  private readonly k: ReturnType<typeof kernelSet>;
  private readonly G: number;
  /** A workspace whose trace backward (or discard) has finished with, for the next forward. */
  private spare: Workspace | null = null;
  /** Traces backward has run on, or discarded: their workspace may be refilled, so they cannot be used again. */
  private readonly consumed = new WeakSet<ForwardTrace>();
  /**
   * Parameter views by parameter array. The same view objects call after call
   * let wasm-gemm keep each product's layout (its plans are keyed by the B
   * view), and spare a Map of fresh subarrays per sampled symbol.
   */
  private readonly viewCache = new WeakMap<Float32Array, Map<string, Float32Array>>();
  /**
   * predict's intermediates (products and cell steps feeding the next kernel):
   * a fresh 1–4 KB Float32Array is allocated off the V8 heap and cost 1–20 µs
   * here, several times a sampled symbol.
   */
  private readonly predictSpace = new Workspace();

  constructor(
    private readonly runner: KernelRunner,
    readonly config: ModelConfig,
    readonly batch: number,
    readonly seq: number,
  ) {
    this.layout = paramLayout(config);
    this.k = kernelSet(config, batch, seq);
    this.G = gateCount(config.cell) * config.hidden;
  }

  /**
   * Whether layer 0's gradients go through the token one-hot matrix: with an
   * embedding and fewer symbols than window positions (the case the vocabulary
   * table serves forward), within MAX_TABLE_FLOATS.
   */
  private viaTokens(): boolean {
    const V = this.config.vocabSize;
    const N = this.batch * this.seq;
    return this.k.tokenGrads !== null && V < N && N * V <= MAX_TABLE_FLOATS;
  }

  private views(params: Float32Array): Map<string, Float32Array> {
    let v = this.viewCache.get(params);
    if (v === undefined) {
      v = views(this.layout, params);
      this.viewCache.set(params, v);
    }
    return v;
  }

  private run(src: KernelSource, ...args: (Float32Array | number)[]): Promise<Float32Array> {
    return this.runner.run(src, ...args);
  }

  private runInto(out: Float32Array, src: KernelSource, ...args: (Float32Array | number)[]): Promise<Float32Array> {
    return this.runner.runInto(out, src, ...args);
  }

  async forward(params: Float32Array, window: Window, state: RecurrentState, masks: DropoutMasks | null = null): Promise<ForwardResult> {
    return this.pinned(params, () => this.forwardPass(params, window, state, masks));
  }

  /**
   * The forward pass for inference (sampling, beam search): logits and state
   * only, with no loss and no trace, and each cell step as one kernel (at
   * batch 1 per-call costs dominate). Same logits as `forward`.
   *
   * `table`, from `inputTable(params)` for these same parameters, turns the
   * first layer's embedding lookup and input projection into one row gather.
   * `into` (arrays other than `state`'s) receives the new state instead of
   * fresh arrays: a sampler alternates two states.
   */
  async predict(params: Float32Array, tokens: Float32Array, state: RecurrentState, table: Float32Array | null = null, into?: RecurrentState): Promise<Prediction> {
    return this.pinned(params, () => this.predictPass(params, tokens, state, table, into));
  }

  /**
   * The first layer's input projection of every vocabulary entry, [V, G]
   * (null without an embedding): row v is what the projection gives for token v,
   * the same products in the same order, so gathering it is bit for bit the
   * lookup-then-project. Valid while the parameters stay as they are.
   */
  async inputTable(params: Float32Array): Promise<Float32Array | null> {
    // A BPE vocabulary's table would be hundreds of MB: project per row instead.
    if (!this.k.inputTable || this.config.vocabSize * this.G > MAX_TABLE_FLOATS) return null;
    const p = this.views(params);
    return this.run(this.k.inputTable, p.get('embedding.weight')!, p.get('rnn.weight_ih_l0')!, p.get('rnn.bias_ih_l0')!);
  }

  private async predictPass(params: Float32Array, tokens: Float32Array, state: RecurrentState, table: Float32Array | null, into: RecurrentState | undefined): Promise<Prediction> {
    const { config, batch: B, seq: T, G } = this;
    const H = config.hidden;
    const cell = config.cell;
    const p = this.views(params);
    const hOut: Float32Array[] = [];
    const cOut: Float32Array[] = [];
    const space = this.predictSpace;
    let below: Float32Array | null = null;
    for (let l = 0; l < config.layers; l++) {
      const W_ih = p.get(`rnn.weight_ih_l${l}`)!;
      const b_ih = p.get(`rnn.bias_ih_l${l}`)!;
      const W_hh = p.get(`rnn.weight_hh_l${l}`)!;
      const b_hh = p.get(`rnn.bias_hh_l${l}`)!;
      let projected: Float32Array;
      if (l === 0 && this.k.oneHotProjection) projected = await this.run(this.k.oneHotProjection, W_ih, b_ih, tokens);
      else if (l === 0 && table) projected = tableRows(table, tokens, G);
      else {
        const input = l === 0 ? await this.run(this.k.embed!, p.get('embedding.weight')!, tokens) : below!;
        projected = await this.runInto(space.get('projected', T * B * G), this.k.inputProjection[l], input, W_ih, b_ih);
      }
      const hidden = T === 1 ? null : new Float32Array(T * B * H);
      let h = state.h[l];
      let c = state.c ? state.c[l] : null;
      for (let t = 0; t < T; t++) {
        const xp = timestep(projected, t, B, G);
        const hp = await this.runInto(space.get('hp', B * G), this.k.recurrent, h, W_hh, b_hh);
        // two step arrays per layer, alternating: a step never writes the array it reads
        const out = `step${l}:${t & 1}`;
        if (cell === 'lstm') {
          const ch = await this.runInto(space.get(out, 2 * B * H), this.k.lstmStep, xp, hp, c!);
          c = ch.subarray(0, B * H);
          h = ch.subarray(B * H);
        } else if (cell === 'gru') {
          h = await this.runInto(space.get(out, B * H), this.k.gruStep, xp, hp, h);
        } else {
          h = await this.runInto(space.get(out, B * H), this.k.rnnHidden, xp, hp);
        }
        hidden?.set(h, t * B * H);
      }
      hOut.push(into ? copyInto(into.h[l], h) : h.slice());
      if (c) cOut.push(into?.c ? copyInto(into.c[l], c) : c.slice());
      below = hidden ?? h;
    }
    const logits = await this.run(this.k.decoder, below!, p.get('decoder.weight')!, p.get('decoder.bias')!);
    return { logits, state: { h: hOut, c: cell === 'lstm' ? cOut : null } };
  }

  /**
   * Hands a trace back unused (evaluation: a forward pass with no backward),
   * so the next forward refills its arrays instead of allocating a window's
   * worth of fresh ones; backward then refuses it, as after a backward.
   */
  discard(trace: ForwardTrace): void {
    if (this.consumed.has(trace)) return;
    this.consumed.add(trace);
    this.spare = trace.workspace;
  }

  /** Gradients of the forward pass's loss, laid out like the parameters. */
  async backward(trace: ForwardTrace): Promise<Float32Array> {
    if (this.consumed.has(trace)) throw new Error('backward already ran on this trace; its arrays may have been reused: run forward again');
    const grads = await this.pinned(trace.params, () => this.backwardPass(trace));
    this.consumed.add(trace);
    this.spare = trace.workspace;
    return grads;
  }

  /**
   * `array` does not change during `pass`, so the runner may keep it resident:
   * wasm-gemm packs W_hh once per window instead of once per timestep while the
   * parameters are pinned, and copies backward's dPre in once for its products.
   */
  private async pinned<T>(array: Float32Array, pass: () => Promise<T>): Promise<T> {
    this.runner.pin(array);
    try {
      return await pass();
    } finally {
      this.runner.unpin(array);
    }
  }

  private async forwardPass(params: Float32Array, window: Window, state: RecurrentState, masks: DropoutMasks | null): Promise<ForwardResult> {
    const { config, batch: B, seq: T } = this;
    const H = config.hidden;
    const p = this.views(params);
    const layers: LayerTrace[] = [];
    const hOut: Float32Array[] = [];
    const cOut: Float32Array[] = [];
    const resets = window.keep ? stateResets(window.keep, B, T, H) : null;
    const workspace = this.spare ?? new Workspace();
    this.spare = null;
    let below: Float32Array | null = null;
    for (let l = 0; l < config.layers; l++) {
      const W_ih = p.get(`rnn.weight_ih_l${l}`)!;
      const b_ih = p.get(`rnn.bias_ih_l${l}`)!;
      let input: Float32Array | null;
      let projected: Float32Array;
      if (l === 0 && this.k.oneHotProjection) {
        input = null;
        projected = await this.run(this.k.oneHotProjection, W_ih, b_ih, window.tokens);
      } else {
        const table = l === 0 && config.vocabSize < B * T ? await this.inputTable(params) : null;
        if (l === 0) {
          // The projection is the table's rows when V < N; backward needs the
          // embedded input unless it goes through the token one-hot matrix.
          input = table && this.viaTokens() ? null : await this.run(this.k.embed!, p.get('embedding.weight')!, window.tokens);
          projected = table
            ? tableRows(table, window.tokens, this.G, workspace.get('projected', B * T * this.G))
            : await this.run(this.k.inputProjection[0], input!, W_ih, b_ih);
        } else {
          input = masks ? await this.run(this.k.dropout, below!, masks[l - 1]) : below!;
          // one buffer for every layer: a layer's projection is spent by its own time loop
          projected = await this.runInto(workspace.get('projected', B * T * this.G), this.k.inputProjection[l], input, W_ih, b_ih);
        }
      }
      const trace = await this.recur(l, p, projected, input, state, resets, workspace);
      layers.push(trace);
      hOut.push(trace.hidden.slice((T - 1) * B * H));
      if (trace.cell) cOut.push(trace.cell.slice((T - 1) * B * H));
      below = trace.hidden;
    }
    const logits = await this.run(this.k.decoder, below!, p.get('decoder.weight')!, p.get('decoder.bias')!);
    const lse = await this.run(this.k.logSumExp, logits);
    const nll = await this.run(this.k.nll, logits, lse, window.targets);
    let loss = 0;
    for (let i = 0; i < nll.length; i++) loss += window.weights[i] * nll[i];
    return {
      loss,
      nll,
      logits,
      state: { h: hOut, c: config.cell === 'lstm' ? cOut : null },
      trace: { params, window, masks, resets, layers, logits, lse, workspace },
    };
  }

  /**
   * The time loop of one layer: only the recurrent product runs per step. A
   * reset multiplies the incoming h (and c) by the keep mask, and the trace
   * records the masked values, since those are what the step read.
   */
  private async recur(
    l: number,
    p: Map<string, Float32Array>,
    projected: Float32Array,
    input: Float32Array | null,
    state: RecurrentState,
    resets: StateResets | null,
    workspace: Workspace,
  ): Promise<LayerTrace> {
    const { config, batch: B, seq: T, G } = this;
    const H = config.hidden;
    const W_hh = p.get(`rnn.weight_hh_l${l}`)!;
    const b_hh = p.get(`rnn.bias_hh_l${l}`)!;
    const cell = config.cell;
    const array = (name: string, width: number): Float32Array => workspace.get(`${name}${l}`, T * B * width);
    const hidden = array('hidden', H);
    const hiddenPrev = array('hiddenPrev', H);
    const gates = cell === 'rnn' ? null : array('gates', G);
    const cellSeq = cell === 'lstm' ? array('cell', H) : null;
    const cellPrev = cell === 'lstm' ? array('cellPrev', H) : null;
    const recurrent = cell === 'gru' ? array('recurrent', G) : null;
    let h = state.h[l];
    let c = state.c ? state.c[l] : null;
    for (let t = 0; t < T; t++) {
      if (resets?.resets[t]) {
        const keep = timestep(resets.rows, t, B, H);
        h = await this.run(this.k.keepState, h, keep);
        if (c) c = await this.run(this.k.keepState, c, keep);
      }
      hiddenPrev.set(h, t * B * H);
      // Each kernel writes its result straight into the trace row it belongs in.
      const xp = timestep(projected, t, B, G);
      const hp = await this.runInto(cell === 'gru' ? timestep(recurrent!, t, B, G) : workspace.get('hp', B * G), this.k.recurrent, h, W_hh, b_hh);
      if (cell === 'lstm') {
        cellPrev!.set(c!, t * B * H);
        const act = await this.runInto(timestep(gates!, t, B, G), this.k.lstmGates, xp, hp);
        c = await this.runInto(timestep(cellSeq!, t, B, H), this.k.lstmCell, act, c!);
        h = await this.runInto(timestep(hidden, t, B, H), this.k.lstmHidden, act, c);
      } else if (cell === 'gru') {
        const act = await this.runInto(timestep(gates!, t, B, G), this.k.gruGates, xp, hp);
        h = await this.runInto(timestep(hidden, t, B, H), this.k.gruHidden, act, h);
      } else {
        h = await this.runInto(timestep(hidden, t, B, H), this.k.rnnHidden, xp, hp);
      }
    }
    return { input, hidden, hiddenPrev, gates, cell: cellSeq, cellPrev, recurrent };
  }

  private async backwardPass(trace: ForwardTrace): Promise<Float32Array> {
    const { config } = this;
    const p = this.views(trace.params);
    const grads = new Float32Array(this.layout.total);
    const g = views(this.layout, grads);
    const top = trace.layers[config.layers - 1].hidden;
    const { tokens, targets, weights } = trace.window;
    const ws = trace.workspace;
    const N = this.batch * this.seq;
    // products write straight into the gradient views and workspace arrays
    const intoGrad = (name: string, src: KernelSource, ...args: (Float32Array | number)[]): Promise<Float32Array> => this.runInto(g.get(name)!, src, ...args);
    const dLogits = await this.run(this.k.lossGrad, trace.logits, trace.lse, targets, weights);
    await intoGrad('decoder.weight', this.k.decoderWeightGrad, dLogits, top);
    g.get('decoder.bias')!.set(await this.run(this.k.decoderBiasGrad, dLogits));
    let dOut = await this.runInto(ws.get('dTop', N * config.hidden), this.k.decoderGrad, dLogits, p.get('decoder.weight')!);
    for (let l = config.layers - 1; l >= 0; l--) {
      const layer = trace.layers[l];
      const W_ih = p.get(`rnn.weight_ih_l${l}`)!;
      const [dInputProj, dRecurrentProj] = await this.sweepBack(l, p, layer, dOut, trace.resets, ws);
      // dInputProj feeds up to three products in a row: wasm-gemm copies it in once while pinned
      const dInput = await this.pinned(dInputProj, async () => {
        await intoGrad(`rnn.weight_hh_l${l}`, this.k.recurrentWeightGrad, dRecurrentProj, layer.hiddenPrev);
        const dBiasIh = await this.run(this.k.gateBiasGrad, dInputProj);
        // LSTM and RNN add both biases before the same gates: one column sum serves both.
        const dBiasHh = dRecurrentProj === dInputProj ? dBiasIh : await this.run(this.k.gateBiasGrad, dRecurrentProj);
        g.get(`rnn.bias_hh_l${l}`)!.set(dBiasHh);
        g.get(`rnn.bias_ih_l${l}`)!.set(dBiasIh);
        if (l === 0 && this.k.oneHotGrad) {
          g.get(`rnn.weight_ih_l${l}`)!.set(await this.run(this.k.oneHotGrad, dInputProj, tokens));
          return null;
        }
        if (l === 0 && this.viaTokens()) {
          // S = onehotᵀ·dPre [V, G] sums dPre's rows by token; then dW_ih = Sᵀ·E and
          // dE = S·W_ih: one N-deep product instead of two (N·G·In each) and a scatter
          const V = config.vocabSize;
          const oneHot = ws.get('oneHot', N * V).fill(0);
          for (let r = 0; r < N; r++) oneHot[r * V + tokens[r]] = 1;
          const S = await this.runInto(ws.get('tokenGrads', V * this.G), this.k.tokenGrads!, oneHot, dInputProj);
          await intoGrad('rnn.weight_ih_l0', this.k.tokenWeightGrad!, S, p.get('embedding.weight')!);
          await intoGrad('embedding.weight', this.k.tokenEmbedGrad!, S, W_ih);
          return null;
        }
        const input = layer.input!;
        await intoGrad(`rnn.weight_ih_l${l}`, this.k.inputWeightGrad[l], dInputProj, input);
        // shared by size: layer l's dInput is spent (layer l−1's dOut) before l−1 writes its own
        return this.runInto(ws.get(`dInput:${input.length}`, input.length), this.k.inputGrad[l], dInputProj, W_ih);
      });
      if (dInput === null) continue;
      if (l === 0) {
        g.get('embedding.weight')!.set(await this.run(this.k.embedGrad!, dInput, tokens));
      } else {
        dOut = trace.masks ? await this.run(this.k.dropout, dInput, trace.masks[l - 1]) : dInput;
      }
    }
    return grads;
  }

  /**
   * Backward through time for one layer, given dOut = ∂loss/∂h_t for every t from
   * above. Returns the gradients of the input projection and of the recurrent
   * projection for the whole window ([N, G] each; the same array except for GRU).
   */
  private async sweepBack(
    l: number,
    p: Map<string, Float32Array>,
    layer: LayerTrace,
    dOut: Float32Array,
    resets: StateResets | null,
    workspace: Workspace,
  ): Promise<[Float32Array, Float32Array]> {
    const { config, batch: B, seq: T, G } = this;
    const H = config.hidden;
    const W_hh = p.get(`rnn.weight_hh_l${l}`)!;
    // layers are swept one after another, so they share these
    const dInputProj = workspace.get('dInputProj', T * B * G);
    const dRecurrentProj = config.cell === 'gru' ? workspace.get('dRecurrentProj', T * B * G) : dInputProj;
    // dh and dc are refilled in place every step: a kernel's inputs are copied in
    // before its result is written, so reading and writing one array is safe
    const dh = workspace.get('dhNext', B * H).fill(0);
    const dc = workspace.get('dcNext', B * H).fill(0);
    let dhNext: Float32Array = dh;
    let dcNext: Float32Array = dc;
    for (let t = T - 1; t >= 0; t--) {
      // What flows into h_{t−1} and c_{t−1} is only needed while there is a step t−1:
      // the carried-in state is not trained, so step 0 skips those kernels.
      const more = t > 0;
      const dOutT = timestep(dOut, t, B, H);
      if (config.cell === 'lstm') {
        const act = timestep(layer.gates!, t, B, G);
        const c = timestep(layer.cell!, t, B, H);
        const dcT = await this.runInto(workspace.get('dc', B * H), this.k.lstmCellGrad, dOutT, dhNext, dcNext, act, c);
        const dPre = await this.runInto(timestep(dInputProj, t, B, G), this.k.lstmGatesBackward, dOutT, dhNext, dcT, act, c, timestep(layer.cellPrev!, t, B, H));
        if (more) {
          dcNext = await this.runInto(dc, this.k.lstmCellCarry, dcT, act);
          dhNext = await this.runInto(dh, this.k.recurrentGrad, dPre, W_hh);
        }
      } else if (config.cell === 'gru') {
        const act = timestep(layer.gates!, t, B, G);
        const hPrev = timestep(layer.hiddenPrev, t, B, H);
        const hp = timestep(layer.recurrent!, t, B, G);
        await this.runInto(timestep(dInputProj, t, B, G), this.k.gruInputBackward, dOutT, dhNext, act, hPrev, hp);
        const dRec = await this.runInto(timestep(dRecurrentProj, t, B, G), this.k.gruRecurrentBackward, dOutT, dhNext, act, hPrev, hp);
        if (more) {
          const direct = await this.runInto(workspace.get('direct', B * H), this.k.gruHiddenBackward, dOutT, dhNext, act);
          dhNext = await this.runInto(dh, this.k.recurrentGradAdd, dRec, W_hh, direct);
        }
      } else {
        const dPre = await this.runInto(timestep(dInputProj, t, B, G), this.k.rnnHiddenBackward, dOutT, dhNext, timestep(layer.hidden, t, B, H));
        if (more) dhNext = await this.runInto(dh, this.k.recurrentGrad, dPre, W_hh);
      }
      // What reached the masked h (and c) of step t reaches h_{t−1} (and c_{t−1}) through the same mask: nothing past a reset.
      if (more && resets?.resets[t]) {
        const keep = timestep(resets.rows, t, B, H);
        dhNext = await this.runInto(dh, this.k.keepState, dhNext, keep);
        if (config.cell === 'lstm') dcNext = await this.runInto(dc, this.k.keepState, dcNext, keep);
      }
    }
    return [dInputProj, dRecurrentProj];
  }
}

/** Rows of timestep t in a time-major [T·B, width] array: a view, so a kernel can write there. */
function timestep(a: Float32Array, t: number, B: number, width: number): Float32Array {
  return a.subarray(t * B * width, (t + 1) * B * width);
}

/** Largest first-layer projection table kept (16 MB): tinyshakespeare's 65 × 2048 is 0.5 MB. */
const MAX_TABLE_FLOATS = 1 << 22;

/**
 * Rows of `table` by token id: a copy on the host, with no arithmetic, since a
 * gather kernel would upload the whole table on every call (22.7 µs for a
 * 65×1024 table at batch 1, against 0 for a view of the row).
 */
function tableRows(table: Float32Array, tokens: Float32Array, width: number, out?: Float32Array): Float32Array {
  if (tokens.length === 1 && !out) return table.subarray(tokens[0] * width, (tokens[0] + 1) * width);
  out ??= new Float32Array(tokens.length * width);
  for (let r = 0; r < tokens.length; r++) out.set(table.subarray(tokens[r] * width, (tokens[r] + 1) * width), r * width);
  return out;
}

function stateResets(keep: Float32Array, B: number, T: number, H: number): StateResets {
  const rows = new Float32Array(T * B * H);
  const resets: boolean[] = [];
  for (let t = 0; t < T; t++) {
    let any = false;
    for (let b = 0; b < B; b++) {
      const k = keep[t * B + b];
      if (k !== 1) any = true;
      rows.fill(k, (t * B + b) * H, (t * B + b + 1) * H);
    }
    resets.push(any);
  }
  return { rows, resets };
}

function copyInto(to: Float32Array, from: Float32Array): Float32Array {
  to.set(from);
  return to;
}
