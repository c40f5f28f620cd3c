import type { IKernelRunShortcut, IPipelineRunShortcut } from 'gpu.js';
import * as K from '../compute/kernel-sources.js';
import type { KernelSource } from '../compute/kernel-sources.js';
import { flatten, type KernelRunner } from '../compute/kernels.js';
import * as S from '../compute/sequence-kernels.js';
import { gateCount, layerInputSize, type ModelConfig } from '../model/config.js';
import type { DropoutMasks, Window } from '../model/network.js';
import { paramLayout, type ParamLayout } from '../model/params.js';
import type { RecurrentState } from '../model/state.js';
import type { OptimizerConfig, OptimizerState } from './optimizer.js';

/** What one resident step reports: all that comes back from the device per step. */
export interface ResidentStepResult {
  readonly loss: number;
  readonly gradNorm: number;
  readonly applied: boolean;
  /** Σ|w| over the updated weights: not finite when the update would have made a weight infinite (it was then not applied). */
  readonly weightSum: number;
  /** The gradients before clipping, laid out like the parameters: only when the step was built to return them. */
  readonly grads: Float32Array | null;
}

/** Parameters, optimizer memory and carried state, read back from the device. */
export interface ResidentContents {
  readonly params: Float32Array;
  readonly optimizer: OptimizerState;
  readonly state: RecurrentState;
}

/** An opaque pipeline handle: only a kernel argument or a result. */
type Handle = unknown;

/** Elements per partial sum of squares, as the host-side optimizer uses. */
const NORM_CHUNK = 256;

/**
 * At most this many chunks per window: each chunk is one more array for
 * `concat` to bind (WebGPU allows 8 storage buffers per stage by default;
 * Dawn's adapters here offer 16), and chunks of about T/8 steps cut the
 * copies of the sequence form 8-fold against one window-long array.
 */
const MAX_CHUNKS = 8;

/** The window's timesteps in chunks of (nearly) equal length: `base` is each chunk's first row. */
function timeChunks(T: number, B: number): { steps: number; base: number }[] {
  const size = Math.ceil(T / Math.min(T, MAX_CHUNKS));
  const out: { steps: number; base: number }[] = [];
  for (let t = 0; t < T; t += size) out.push({ steps: Math.min(size, T - t), base: t * B });
  return out;
}

/**
 * A whole training step — forward over the window, backward through time,
 * global-norm clipping and the optimizer update — as ONE gpu.js pipeline
 * whose parameters, optimizer moments and carried state stay on the device
 * between steps (the pipeline's `carry` setting, src/compute/patches). On
 * webgpu that is one queue submission and one readback (the loss and the sum
 * of squared gradients) per step; per step the host uploads only the window.
 *
 * The model is the same as Network's (src/model/network.ts), written in the
 * sequence form a pipeline needs (src/compute/sequence-kernels.ts): the
 * window products and the softmax are Network's own kernels; the time loop's
 * kernels compute the same expressions over whole sequence arrays.
 */
export class ResidentTrainStep {
  readonly layout: ParamLayout;
  private readonly pipeline: IPipelineRunShortcut;
  private readonly T: number;
  private readonly B: number;
  private readonly tensors: number;
  private readonly stateIndex: number;
  private readonly windowIndex: number;
  private readonly maskCount: number;
  private resident: { params: Float32Array[]; first: Float32Array[]; second: Float32Array[]; h: Float32Array[]; c: Float32Array[] } | null = null;
  private step = 0;
  /**
   * What the host replaced since the last step: those arrays are the values
   * until the next step uploads them (the device still holds the old ones).
   */
  private hostNewer: 'all' | 'state' | null = null;
  /** Ones for windows without a keep mask (the state always carries on). */
  private readonly ones: Float32Array;

  constructor(
    private readonly runner: KernelRunner,
    readonly config: ModelConfig,
    batch: number,
    seq: number,
    readonly optimizer: OptimizerConfig,
    /**
     * Also read every gradient back (one extra result per tensor in the same
     * readback), for checking the resident path against the cpu reference.
     */
    private readonly returnGradients = false,
  ) {
    this.B = batch;
    this.T = seq;
    this.layout = paramLayout(config);
    this.tensors = this.layout.specs.length;
    const moments = optimizer.kind === 'adam' ? 2 : 1;
    this.stateIndex = this.tensors * (1 + moments);
    const stateCount = config.layers * (config.cell === 'lstm' ? 2 : 1);
    this.windowIndex = this.stateIndex + stateCount;
    this.maskCount = config.dropout > 0 && config.layers > 1 ? config.layers - 1 : 0;
    this.ones = new Float32Array(batch * seq).fill(1);
    const argCount = this.windowIndex + 4 + this.maskCount + 5;
    const carry: Record<string, number> = {};
    for (let i = 0; i < this.tensors; i++) {
      carry[`p${i}`] = i;
      carry[`m${i}`] = this.tensors + i;
      if (moments === 2) carry[`v${i}`] = 2 * this.tensors + i;
    }
    for (let l = 0; l < config.layers; l++) {
      carry[`h${l}`] = this.stateIndex + l;
      if (config.cell === 'lstm') carry[`c${l}`] = this.stateIndex + config.layers + l;
    }
    // gpu.js gives the orchestration one handle per declared parameter (fn.length)
    const names = Array.from({ length: argCount }, (_, i) => `a${i}`);
    const orchestrate = (args: Handle[]): Record<string, Handle> => this.trace(args);
    const fn = new Function('orchestrate', `return function (${names.join(', ')}) { return orchestrate([${names.join(', ')}]); };`)(orchestrate) as () => Record<string, Handle>;
    this.pipeline = runner.createPipeline(fn, { carry });
  }

  /** Hands parameters, optimizer memory and state to the device (they upload with the next step). */
  load(params: Float32Array, optimizer: OptimizerState, state: RecurrentState): void {
    const split = (a: Float32Array): Float32Array[] => this.layout.specs.map((s) => a.slice(s.offset, s.offset + s.size));
    this.resident = {
      params: split(params),
      first: split(optimizer.first),
      second: optimizer.second ? split(optimizer.second) : [],
      h: state.h.map((h) => h.slice()),
      c: state.c ? state.c.map((c) => c.slice()) : [],
    };
    this.step = optimizer.step;
    this.hostNewer = 'all';
  }

  /** Replaces the carried state (a new epoch, a reset): it uploads with the next step. */
  setState(state: RecurrentState): void {
    if (!this.resident) throw new Error('ResidentTrainStep.setState before load');
    this.resident.h = state.h.map((h) => h.slice());
    this.resident.c = state.c ? state.c.map((c) => c.slice()) : [];
    if (this.hostNewer !== 'all') this.hostNewer = 'state';
  }

  /**
   * One step. The device applies it only when the loss and gradient norm are
   * finite, the loss is at most `lossLimit` and the updated weights are finite;
   * `applied` says whether it did.
   */
  async run(window: Window, masks: DropoutMasks | null, lr: number, maxNorm: number, lossLimit = Number.MAX_VALUE): Promise<ResidentStepResult> {
    const r = this.resident;
    if (!r) throw new Error('ResidentTrainStep.run before load');
    const o = this.optimizer;
    const step = this.step + 1;
    const correction2 = Math.sqrt(1 - o.beta2 ** step);
    const stepSize = (lr * correction2) / (1 - o.beta1 ** step);
    const maskArgs: Float32Array[] = [];
    for (let i = 0; i < this.maskCount; i++) maskArgs.push(masks ? masks[i] : this.onesFor(i));
    const args = [
      ...r.params,
      ...r.first,
      ...r.second,
      ...r.h,
      ...r.c,
      window.tokens,
      window.targets,
      window.weights,
      window.keep ?? this.ones,
      ...maskArgs,
      stepSize,
      o.eps * correction2,
      lr,
      maxNorm,
      Math.min(lossLimit, 3e38),
    ];
    const out = (await this.pipeline(...args)) as Record<string, Float32Array>;
    this.hostNewer = null;
    this.runner.notePipelineRun(this.pipeline.executorKind, this.pipeline.fallbackReason);
    const [loss, sq, weightSum] = flatten(out.report, [3]);
    const gradNorm = Math.sqrt(sq);
    // the device's own test (clipFlags, commitFlags), in float64 on what it read
    const applied = Number.isFinite(gradNorm) && Number.isFinite(loss) && loss <= lossLimit && Number.isFinite(weightSum);
    if (applied) this.step = step;
    let grads: Float32Array | null = null;
    if (this.returnGradients) {
      grads = new Float32Array(this.layout.total);
      this.layout.specs.forEach((s, i) => grads!.set(flatten(out[`g${i}`], [s.shape[s.shape.length - 1]]), s.offset));
    }
    return { loss, gradNorm, applied, weightSum, grads };
  }

  /** Reads everything the device holds back (a save, a sample, an eval pass): never needed per step. */
  async read(): Promise<ResidentContents> {
    const r = this.resident;
    if (!r) throw new Error('ResidentTrainStep.read before load');
    const newer = (index: number): boolean => this.hostNewer === 'all' || (this.hostNewer === 'state' && index >= this.stateIndex);
    const read = (index: number, host: Float32Array): Promise<Float32Array> =>
      newer(index) ? Promise.resolve(host.slice()) : this.pipeline.pipeline.readArgument(index);
    const join = async (base: number, parts: Float32Array[]): Promise<Float32Array> => {
      const flat = new Float32Array(this.layout.total);
      for (let i = 0; i < this.tensors; i++) flat.set(await read(base + i, parts[i]), this.layout.specs[i].offset);
      return flat;
    };
    const params = await join(0, r.params);
    const first = await join(this.tensors, r.first);
    const second = this.optimizer.kind === 'adam' ? await join(2 * this.tensors, r.second) : null;
    const L = this.config.layers;
    const h: Float32Array[] = [];
    const c: Float32Array[] = [];
    for (let l = 0; l < L; l++) h.push(await read(this.stateIndex + l, r.h[l]));
    if (this.config.cell === 'lstm') for (let l = 0; l < L; l++) c.push(await read(this.stateIndex + L + l, r.c[l]));
    return { params, optimizer: { step: this.step, first, second }, state: { h, c: this.config.cell === 'lstm' ? c : null } };
  }

  /** Which gpu.js executor ran the plan: 'fused-encoder' on webgpu keeps every intermediate on the device. */
  get executorKind(): string {
    return this.pipeline.executorKind;
  }

  destroy(): void {
    void this.pipeline.destroy();
  }

  private onesMasks: Float32Array[] = [];

  private onesFor(i: number): Float32Array {
    this.onesMasks[i] ??= new Float32Array(this.B * this.T * this.config.hidden).fill(1);
    return this.onesMasks[i];
  }

  private k(src: KernelSource): IKernelRunShortcut {
    return this.runner.pipelineKernel(src);
  }

  /** The orchestration, traced once by gpu.js: every call records a kernel step. */
  private trace(args: Handle[]): Record<string, Handle> {
    const { config, B, T, tensors } = this;
    const N = B * T;
    const H = config.hidden;
    const V = config.vocabSize;
    const E = config.embed;
    const L = config.layers;
    const G = gateCount(config.cell) * H;
    const cell = config.cell;
    const index = new Map(this.layout.specs.map((s, i) => [s.name, i]));
    const param = (name: string): Handle => args[index.get(name)!];
    const h0 = (l: number): Handle => args[this.stateIndex + l];
    const c0 = (l: number): Handle => args[this.stateIndex + L + l];
    const w = this.windowIndex;
    const [tokens, targets, weights, keep] = args.slice(w, w + 4);
    const masks = args.slice(w + 4, w + 4 + this.maskCount);
    const [stepSize, epsHat, lr, maxNorm, lossLimit] = args.slice(w + 4 + this.maskCount);
    const run = (src: KernelSource, ...a: Handle[]): Handle => (this.k(src) as unknown as (...x: Handle[]) => Handle)(...a);

    // ---- forward ----
    const chunks = timeChunks(T, B);
    const rows = chunks.map((c) => c.steps * B);
    const whole = (parts: Handle[], width: number): Handle => (parts.length === 1 ? parts[0] : run(S.concat(rows, width), ...parts));
    interface LayerChunks {
      readonly input: Handle | null;
      /** The hidden states of the whole window [N, H], assembled. */
      readonly hiddenWhole: Handle;
      readonly hidden: Handle[];
      readonly gates: Handle[];
      readonly cell: Handle[];
      readonly recurrent: Handle[];
      /** The state entering each chunk (h, and c for LSTM). */
      readonly hIn: Handle[];
      readonly cIn: Handle[];
    }
    const layers: LayerChunks[] = [];
    let below: Handle = null;
    for (let l = 0; l < L; l++) {
      const W_ih = param(`rnn.weight_ih_l${l}`);
      const b_ih = param(`rnn.bias_ih_l${l}`);
      const W_hh = param(`rnn.weight_hh_l${l}`);
      const b_hh = param(`rnn.bias_hh_l${l}`);
      let input: Handle | null = null;
      let projected: Handle;
      if (l === 0 && E === 0) {
        projected = run(K.gatherColumnsBias(N, G, V), W_ih, b_ih, tokens);
      } else {
        input = l === 0 ? run(K.gatherRows(N, E), param('embedding.weight'), tokens) : masks.length ? run(K.multiply(N * H), below, masks[l - 1]) : below;
        projected = run(K.linearNT(N, G, layerInputSize(config, l), false), input, W_ih, b_ih);
      }
      const layer: LayerChunks = { input, hiddenWhole: null, hidden: [], gates: [], cell: [], recurrent: [], hIn: [], cIn: [] };
      let hEnter: Handle = h0(l);
      let cEnter: Handle = cell === 'lstm' ? c0(l) : null;
      chunks.forEach(({ steps, base }, k) => {
        const R = steps * B;
        layer.hIn.push(hEnter);
        layer.cIn.push(cEnter);
        let hidden: Handle = null;
        let gates: Handle = null;
        let cellSeq: Handle = null;
        let recurrent: Handle = null;
        for (let t = 0; t < steps; t++) {
          const first = t === 0;
          const prev = (seq: Handle): Handle[] => (first ? [] : [seq]);
          const hp = run(S.recurrentAt(B, G, H, first), first ? hEnter : hidden, keep, W_hh, b_hh, t, base);
          if (cell === 'lstm') {
            gates = run(S.lstmGatesSeq(R, B, H, first), ...prev(gates), projected, hp, t, base);
            cellSeq = first ? run(S.lstmCellSeq(R, B, H, true), gates, cEnter, keep, t, base) : run(S.lstmCellSeq(R, B, H, false), cellSeq, gates, keep, t, base);
            hidden = run(S.lstmHiddenSeq(R, B, H, first), ...prev(hidden), gates, cellSeq, t, base);
          } else if (cell === 'gru') {
            recurrent = run(S.writeBlock(R, B, G, first), ...prev(recurrent), hp, t, base);
            gates = run(S.gruGatesSeq(R, B, H, first), ...prev(gates), projected, recurrent, t, base);
            hidden = first ? run(S.gruHiddenSeq(R, B, H, true), gates, hEnter, keep, t, base) : run(S.gruHiddenSeq(R, B, H, false), hidden, gates, keep, t, base);
          } else {
            hidden = run(S.rnnHiddenSeq(R, B, H, first), ...prev(hidden), projected, hp, t, base);
          }
        }
        layer.hidden.push(hidden);
        layer.gates.push(gates);
        layer.cell.push(cellSeq);
        layer.recurrent.push(recurrent);
        if (k + 1 < chunks.length) {
          hEnter = run(S.chunkEnd(R, B, H), hidden);
          if (cell === 'lstm') cEnter = run(S.chunkEnd(R, B, H), cellSeq);
        }
      });
      const assembled: LayerChunks = { ...layer, hiddenWhole: whole(layer.hidden, H) };
      layers.push(assembled);
      below = assembled.hiddenWhole;
    }
    const decW = param('decoder.weight');
    const logits = run(K.linearNT(N, V, H, false), below, decW, param('decoder.bias'));
    const lse = run(K.rowLogSumExp(N, V), logits);
    const nll = run(K.nll(N, V), logits, lse, targets);
    const loss = run(S.weightedSum(N), nll, weights);

    // ---- backward ----
    const grads = new Map<string, Handle>();
    const dLogits = run(K.softmaxCrossEntropyBackward(N, V), logits, lse, targets, weights);
    grads.set('decoder.weight', run(K.matmulTN(N, V, H), dLogits, below));
    grads.set('decoder.bias', run(K.columnSum(N, V), dLogits));
    let dOut = run(K.matmulNN(N, V, H, false), dLogits, decW);
    for (let l = L - 1; l >= 0; l--) {
      const layer = layers[l];
      const W_hh = param(`rnn.weight_hh_l${l}`);
      const dInChunks: Handle[] = [];
      const dRecChunks: Handle[] = [];
      let dhNext: Handle = null;
      let dcNext: Handle = null;
      for (let k = chunks.length - 1; k >= 0; k--) {
        const { steps, base } = chunks[k];
        const R = steps * B;
        let dIn: Handle = null;
        let dRec: Handle = null;
        for (let t = steps - 1; t >= 0; t--) {
          const first = t === 0;
          const fresh = t === steps - 1;
          const end = fresh && k === chunks.length - 1;
          // the carried-in state is not trained: the window's first step passes nothing further back
          const more = !(first && k === 0);
          const prev = (seq: Handle): Handle[] => (fresh ? [] : [seq]);
          if (cell === 'lstm') {
            const carried = end ? [] : [dhNext, dcNext];
            dIn = run(S.lstmGatesBackwardSeq(R, B, H, first, fresh, end), ...prev(dIn), ...carried, dOut, layer.gates[k], layer.cell[k], ...(first ? [layer.cIn[k]] : []), keep, t, base);
            if (more) {
              dcNext = run(S.lstmCellCarryAt(B, H, end), ...carried, dOut, layer.gates[k], layer.cell[k], keep, t, base);
              dhNext = run(S.recurrentGradAt(B, G, H, false, end), dIn, W_hh, keep, t, base);
            }
            dRec = dIn;
          } else if (cell === 'gru') {
            const rest = [...(end ? [] : [dhNext]), dOut, layer.gates[k], first ? layer.hIn[k] : layer.hidden[k], layer.recurrent[k], keep, t, base];
            dIn = run(S.gruGatesBackwardSeq(R, B, H, 0, first, fresh, end), ...prev(dIn), ...rest);
            dRec = run(S.gruGatesBackwardSeq(R, B, H, 1, first, fresh, end), ...prev(dRec), ...rest);
            if (more) dhNext = run(S.recurrentGradAt(B, G, H, true, end), dRec, W_hh, ...(end ? [] : [dhNext]), dOut, layer.gates[k], keep, t, base);
          } else {
            dIn = run(S.rnnBackwardSeq(R, B, H, fresh, end), ...prev(dIn), ...(end ? [] : [dhNext]), dOut, layer.hidden[k], t, base);
            if (more) dhNext = run(S.recurrentGradAt(B, G, H, false, end), dIn, W_hh, keep, t, base);
            dRec = dIn;
          }
        }
        dInChunks[k] = dIn;
        dRecChunks[k] = dRec;
      }
      const dInWhole = whole(dInChunks, G);
      const dRecWhole = cell === 'gru' ? whole(dRecChunks, G) : dInWhole;
      grads.set(`rnn.weight_hh_l${l}`, run(S.previousWeightGrad(N, B, G, H), dRecWhole, layer.hiddenWhole, h0(l), keep));
      const dBiasIh = run(K.columnSum(N, G), dInWhole);
      grads.set(`rnn.bias_ih_l${l}`, dBiasIh);
      grads.set(`rnn.bias_hh_l${l}`, cell === 'gru' ? run(K.columnSum(N, G), dRecWhole) : dBiasIh);
      const W_ih = param(`rnn.weight_ih_l${l}`);
      if (l === 0 && E === 0) {
        grads.set('rnn.weight_ih_l0', run(K.scatterColumns(N, G, V), dInWhole, tokens));
        continue;
      }
      const In = layerInputSize(config, l);
      grads.set(`rnn.weight_ih_l${l}`, run(K.matmulTN(N, G, In), dInWhole, layer.input));
      const dX = run(K.matmulNN(N, G, In, false), dInWhole, W_ih);
      if (l === 0) grads.set('embedding.weight', run(K.scatterRows(N, E, V), dX, tokens));
      else dOut = masks.length ? run(K.multiply(N * H), dX, masks[l - 1]) : dX;
    }

    // ---- clipping and the update, skipped on the device when the step is not finite ----
    let sq: Handle = null;
    this.layout.specs.forEach((s, i) => {
      const partial = run(K.chunkSumSquares(s.size, NORM_CHUNK), grads.get(s.name));
      const chunks = Math.ceil(s.size / NORM_CHUNK);
      sq = i === 0 ? run(S.accumulate(chunks, false), partial) : run(S.accumulate(chunks, true), sq, partial);
    });
    const flags = run(S.clipFlags(), sq, loss, maxNorm, lossLimit);
    const o = this.optimizer;
    // the update is computed, then committed only if every updated weight is finite
    const next = this.layout.specs.map((s, i) => {
      const g = grads.get(s.name);
      const p = args[i];
      const m = args[tensors + i];
      if (o.kind === 'adam') {
        const m1 = run(S.adamFirstScaled(s.size), m, g, flags, o.beta1);
        const v1 = run(S.adamSecondScaled(s.size), args[2 * tensors + i], g, flags, o.beta2);
        return { p: run(K.adamUpdate(s.size), p, m1, v1, stepSize, epsHat), m: m1, v: v1 };
      }
      const vel = run(S.momentumVelocityScaled(s.size), m, g, flags, o.momentum);
      return { p: run(K.momentumUpdate(s.size), p, vel, lr), m: vel, v: null };
    });
    let weightSum: Handle = null;
    this.layout.specs.forEach((s, i) => {
      const partial = run(S.chunkSumAbs(s.size, NORM_CHUNK), next[i].p);
      const chunks = Math.ceil(s.size / NORM_CHUNK);
      weightSum = i === 0 ? run(S.accumulate(chunks, false), partial) : run(S.accumulate(chunks, true), weightSum, partial);
    });
    const commit = run(S.commitFlags(), flags, weightSum);
    const results: Record<string, Handle> = { report: run(S.report(), loss, sq, weightSum) };
    if (this.returnGradients) this.layout.specs.forEach((s, i) => (results[`g${i}`] = grads.get(s.name)));
    this.layout.specs.forEach((s, i) => {
      results[`p${i}`] = run(S.commit(s.size), next[i].p, args[i], commit);
      results[`m${i}`] = run(S.commit(s.size), next[i].m, args[tensors + i], commit);
      if (next[i].v) results[`v${i}`] = run(S.commit(s.size), next[i].v, args[2 * tensors + i], commit);
    });
    const lastRows = chunks[chunks.length - 1].steps * B;
    for (let l = 0; l < L; l++) {
      results[`h${l}`] = run(S.finalState(lastRows, B, H), layers[l].hidden[chunks.length - 1], h0(l), commit);
      if (cell === 'lstm') results[`c${l}`] = run(S.finalState(lastRows, B, H), layers[l].cell[chunks.length - 1], c0(l), commit);
    }
    return results;
  }
}
