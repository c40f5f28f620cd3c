import type { IKernelRunShortcut, IPipelineRunShortcut } from 'gpu.js';
import * as K from '../compute/kernel-sources.js';
import type { KernelSource } from '../compute/kernel-sources.js';
import { flatten, type KernelRunner } from '../compute/kernels.js';
import { gateCount, layerInputSize, type ModelConfig } from '../model/config.js';
import { paramLayout, type ParamLayout } from '../model/params.js';
import type { RecurrentState } from '../model/state.js';

type Handle = unknown;

/** out[i] = a[offset + i]: one half of lstmStep's [c; h]. */
function slice(n: number, offset: number): KernelSource {
  return {
    key: `predict.slice:${n}:${offset}`,
    output: [n],
    source: `function(a) { return a[${offset} + this.thread.x]; }`,
  };
}

/**
 * Row b of the state a step starts from: row from[b] of the carried state, or
 * zeros where keep[b] is 0 (a beam nobody took, a document start). A select,
 * not a product, so a zeroed row is +0 exactly as on the host.
 */
function reorder(B: number, H: number): KernelSource {
  return {
    key: `predict.reorder:${B}:${H}`,
    output: [H, B],
    source: `function(s, from, keep) {
      if (keep[this.thread.y] == 0) { return 0; }
      return s[from[this.thread.y] * ${H} + this.thread.x];
    }`,
  };
}

/**
 * Inference on the device for `batch` streams: one symbol per stream in, the
 * B×V logits out, as one gpu.js pipeline whose weights stay resident
 * (uploaded when a different parameter array is loaded) and whose recurrent
 * state is carried on the device. On webgpu a step is one submit, a
 * 12·B-byte upload (symbols, which row each stream continues, which rows
 * restart) and one readback. The kernels are Network.predict's (lstmStep,
 * gruStep, rnnHidden and the products), in the same order, so the logits are
 * the same float32 values.
 */
export class DevicePredictor {
  private readonly layout: ParamLayout;
  private readonly pipeline: IPipelineRunShortcut;
  private readonly tensors: number;
  private weights: Float32Array[] = [];
  private loadedFrom: Float32Array | null = null;
  private state: Float32Array[] = [];

  private readonly identity: { from: Float32Array; keep: Float32Array };

  /** Whether `runner` can sample on the device: webgpu, with a gpu.js whose pipelines carry state (not the browser build). */
  static runsOn(runner: KernelRunner): boolean {
    return runner.backend === 'webgpu' && runner.pipelinesCarryState;
  }

  constructor(
    private readonly runner: KernelRunner,
    readonly model: ModelConfig,
    readonly batch = 1,
  ) {
    this.layout = paramLayout(model);
    this.tensors = this.layout.specs.length;
    this.identity = { from: Float32Array.from({ length: batch }, (_, b) => b), keep: new Float32Array(batch).fill(1) };
    const stateCount = model.layers * (model.cell === 'lstm' ? 2 : 1);
    // weights, state, then tokens, from, keep
    const argCount = this.tensors + stateCount + 3;
    const carry: Record<string, number> = {};
    for (let i = 0; i < stateCount; i++) carry[`s${i}`] = this.tensors + i;
    // the weights, and `from`/`keep` (the same identity arrays for every symbol a sampler draws)
    const resident = [...Array.from({ length: this.tensors }, (_, i) => i), argCount - 2, argCount - 1];
    const names = Array.from({ length: argCount }, (_, i) => `a${i}`);
    const orchestrate = (args: Handle[]): Record<string, Handle> => this.trace(args);
    const fn = new Function('orchestrate', `return function (${names.join(', ')}) { return orchestrate([${names.join(', ')}]); };`)(orchestrate) as () => Record<string, Handle>;
    this.pipeline = runner.createPipeline(fn, { carry, resident });
  }

  /** Weights for the next symbols: uploaded with the next one, only when they are a different array than before. */
  load(params: Float32Array): void {
    if (params === this.loadedFrom) return;
    this.loadedFrom = params;
    this.weights = this.layout.specs.map((s) => params.slice(s.offset, s.offset + s.size));
  }

  /** The state the next symbol starts from (zeros at a start or a document boundary): uploaded with it. */
  setState(state: RecurrentState): void {
    this.state = [...state.h, ...(state.c ?? [])].map((a) => a.slice());
  }

  /** Logits [V] after reading `id` (batch 1); the state moves on, on the device. */
  next(id: number): Promise<Float32Array> {
    return this.step(Float32Array.of(id), this.identity.from, this.identity.keep);
  }

  /**
   * Logits [B, V] after stream b reads tokens[b], continuing the state of
   * row from[b], or a zero state where keep[b] is 0; the state moves on, on
   * the device.
   */
  async step(tokens: Float32Array, from: Float32Array, keep: Float32Array): Promise<Float32Array> {
    const out = (await this.pipeline(...this.weights, ...this.state, tokens, from, keep)) as { logits: unknown };
    this.runner.notePipelineRun(this.pipeline.executorKind, this.pipeline.fallbackReason);
    return flatten(out.logits, [this.model.vocabSize, this.batch]);
  }

  destroy(): void {
    void this.pipeline.destroy();
  }

  private k(src: KernelSource): IKernelRunShortcut {
    return this.runner.pipelineKernel(src);
  }

  private trace(args: Handle[]): Record<string, Handle> {
    const { model } = this;
    const H = model.hidden;
    const V = model.vocabSize;
    const G = gateCount(model.cell) * H;
    const L = model.layers;
    const B = this.batch;
    const index = new Map(this.layout.specs.map((s, i) => [s.name, i]));
    const param = (name: string): Handle => args[index.get(name)!];
    const [token, from, keep] = args.slice(-3);
    const run = (src: KernelSource, ...a: Handle[]): Handle => (this.k(src) as unknown as (...x: Handle[]) => Handle)(...a);
    const start = (state: Handle): Handle => run(reorder(B, H), state, from, keep);
    const results: Record<string, Handle> = {};
    let below: Handle = null;
    for (let l = 0; l < L; l++) {
      const W_ih = param(`rnn.weight_ih_l${l}`);
      const b_ih = param(`rnn.bias_ih_l${l}`);
      const h = start(args[this.tensors + l]);
      let projected: Handle;
      if (l === 0 && model.embed === 0) projected = run(K.gatherColumnsBias(B, G, V), W_ih, b_ih, token);
      else {
        const input = l === 0 ? run(K.gatherRows(B, model.embed), param('embedding.weight'), token) : below;
        projected = run(K.linearNT(B, G, layerInputSize(model, l), false), input, W_ih, b_ih);
      }
      const hp = run(K.linearNT(B, G, H, false), h, param(`rnn.weight_hh_l${l}`), param(`rnn.bias_hh_l${l}`));
      if (model.cell === 'lstm') {
        const ch = run(K.lstmStep(B, H), projected, hp, start(args[this.tensors + L + l]));
        results[`s${L + l}`] = run(slice(B * H, 0), ch);
        below = run(slice(B * H, B * H), ch);
      } else if (model.cell === 'gru') {
        below = run(K.gruStep(B, H), projected, hp, h);
      } else {
        below = run(K.rnnHidden(B, H), projected, hp);
      }
      results[`s${l}`] = below;
    }
    results.logits = run(K.linearNT(B, V, H, false), below, param('decoder.weight'), param('decoder.bias'));
    return results;
  }
}
