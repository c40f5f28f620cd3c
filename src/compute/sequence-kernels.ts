// Kernel sources for the device-resident training step (src/train/resident-step.ts).
//
// Inside a gpu.js pipeline a kernel cannot write into part of a buffer: every
// call produces a whole output. So the time loop keeps each per-timestep
// tensor of a window as one sequence array [N = T·B, W] (time-major, block t
// = rows t·B … t·B + B − 1), and a step kernel writes the whole array: block t
// computed, every other row copied from the previous sequence (the pipeline
// double-buffers the two). The copies cost O(T²·B·W) memory traffic per
// window, a fraction of a millisecond on a GPU and the price of one submit
// per step instead of one round trip per kernel. The arithmetic of every cell
// is the expression of its per-timestep twin in kernel-sources.ts, in the same
// order, so the two paths agree to float32 rounding.
//
// `first` variants serve t = 0: they read the carried-in state instead of a
// previous block and have no previous sequence (other rows are zero). The
// timestep `t` is a scalar argument, baked per pass by the pipeline.

import type { KernelSource } from './kernel-sources.js';

const sigmoid = (x: string): string => `1 / (1 + Math.exp(-(${x})))`;
const tanh = (x: string): string => `2 / (1 + Math.exp(-2 * (${x}))) - 1`;

/** Whether thread `axis` (a row of the sequence) lies in block t. */
const inBlock = (axis: 'y' | 'z', B: number): string => `this.thread.${axis} >= t * ${B} && this.thread.${axis} < t * ${B} + ${B}`;

/** A sequence step: compute block t with `body` (returns its value), copy every other cell from `prev`. */
function seqStep(key: string, output: KernelSource['output'], args: string[], body: string, rowAxis: 'y' | 'z', B: number, flat: string, first: boolean): KernelSource {
  const params = first ? args : ['prev', ...args];
  return {
    key: `${key}:${first}`,
    output,
    source: `function(${[...params, 't'].join(', ')}) {
      if (${inBlock(rowAxis, B)}) {
        ${body}
      }
      ${first ? 'return 0;' : `return prev[${flat}];`}
    }`,
  };
}

/** Row index of this thread inside block t (its batch stream b). */
const streamOf = (axis: 'y' | 'z', B: number): string => `(this.thread.${axis} - t * ${B})`;

/**
 * hp = keep ⊙ h_{t−1} · W_hhᵀ + b_hh, [B, G]: h_{t−1} is block t−1 of the
 * hidden sequence, or the carried-in state at t = 0.
 */
export function recurrentAt(B: number, G: number, H: number, first: boolean): KernelSource {
  const src = first ? 'h0' : 'hseq';
  const row = first ? 'this.thread.y' : `((t - 1) * ${B} + this.thread.y)`;
  return {
    key: `seq.recurrentAt:${B}:${G}:${H}:${first}`,
    output: [G, B],
    source: `function(${src}, keep, w, bias, t) {
      const n = this.thread.x;
      const kp = keep[t * ${B} + this.thread.y];
      let s = bias[n];
      for (let k = 0; k < ${H}; k++) { s += (${src}[${row} * ${H} + k] * kp) * w[n * ${H} + k]; }
      return s;
    }`,
  };
}

// ---- LSTM forward (gates i, f, g, o) ----

export function lstmGatesSeq(N: number, B: number, H: number, first: boolean): KernelSource {
  const G = 4 * H;
  const own = `this.thread.z * ${G} + this.thread.y * ${H} + this.thread.x`;
  return seqStep(`seq.lstmGates:${N}:${B}:${H}`, [H, 4, N], ['xp', 'hp'], `
        const pre = xp[${own}] + hp[${streamOf('z', B)} * ${G} + this.thread.y * ${H} + this.thread.x];
        if (this.thread.y == 2) { return ${tanh('pre')}; }
        return ${sigmoid('pre')};`, 'z', B, own, first);
}

/** c_t = f ⊙ (keep ⊙ c_{t−1}) + i ⊙ g. */
export function lstmCellSeq(N: number, B: number, H: number, first: boolean): KernelSource {
  const G = 4 * H;
  const cPrev = first ? `c0[${streamOf('y', B)} * ${H} + this.thread.x]` : `prev[(this.thread.y - ${B}) * ${H} + this.thread.x]`;
  return seqStep(`seq.lstmCell:${N}:${B}:${H}`, [H, N], first ? ['act', 'c0', 'keep'] : ['act', 'keep'], `
        const a = this.thread.y * ${G} + this.thread.x;
        return act[a + ${H}] * (${cPrev} * keep[this.thread.y]) + act[a] * act[a + ${2 * H}];`, 'y', B, `this.thread.y * ${H} + this.thread.x`, first);
}

/** h_t = o ⊙ tanh(c_t). */
export function lstmHiddenSeq(N: number, B: number, H: number, first: boolean): KernelSource {
  const G = 4 * H;
  return seqStep(`seq.lstmHidden:${N}:${B}:${H}`, [H, N], ['act', 'c'], `
        const cv = c[this.thread.y * ${H} + this.thread.x];
        return act[this.thread.y * ${G} + ${3 * H} + this.thread.x] * (${tanh('cv')});`, 'y', B, `this.thread.y * ${H} + this.thread.x`, first);
}

// ---- GRU forward (r, z, n; n = tanh(x_n + r ⊙ hp_n)) ----

/** Block t of a sequence set from a [B, W] tensor (the GRU's recurrent projections, kept for backward). */
export function writeBlock(N: number, B: number, W: number, first: boolean): KernelSource {
  return seqStep(`seq.writeBlock:${N}:${B}:${W}`, [W, N], ['block'], `
        return block[${streamOf('y', B)} * ${W} + this.thread.x];`, 'y', B, `this.thread.y * ${W} + this.thread.x`, first);
}

export function gruGatesSeq(N: number, B: number, H: number, first: boolean): KernelSource {
  const G = 3 * H;
  const own = `this.thread.z * ${G} + this.thread.y * ${H} + this.thread.x`;
  const r = `this.thread.z * ${G} + this.thread.x`;
  return seqStep(`seq.gruGates:${N}:${B}:${H}`, [H, 3, N], ['xp', 'rec'], `
        if (this.thread.y < 2) { return ${sigmoid(`xp[${own}] + rec[${own}]`)}; }
        const r = ${sigmoid(`xp[${r}] + rec[${r}]`)};
        return ${tanh(`xp[${own}] + r * rec[${own}]`)};`, 'z', B, own, first);
}

/** h_t = (1 − z) ⊙ n + z ⊙ (keep ⊙ h_{t−1}). */
export function gruHiddenSeq(N: number, B: number, H: number, first: boolean): KernelSource {
  const G = 3 * H;
  const hPrev = first ? `h0[${streamOf('y', B)} * ${H} + this.thread.x]` : `prev[(this.thread.y - ${B}) * ${H} + this.thread.x]`;
  return seqStep(`seq.gruHidden:${N}:${B}:${H}`, [H, N], first ? ['act', 'h0', 'keep'] : ['act', 'keep'], `
        const z = act[this.thread.y * ${G} + ${H} + this.thread.x];
        return (1 - z) * act[this.thread.y * ${G} + ${2 * H} + this.thread.x] + z * (${hPrev} * keep[this.thread.y]);`, 'y', B, `this.thread.y * ${H} + this.thread.x`, first);
}

// ---- vanilla RNN forward ----

export function rnnHiddenSeq(N: number, B: number, H: number, first: boolean): KernelSource {
  return seqStep(`seq.rnnHidden:${N}:${B}:${H}`, [H, N], ['xp', 'hp'], `
        return ${tanh(`xp[this.thread.y * ${H} + this.thread.x] + hp[${streamOf('y', B)} * ${H} + this.thread.x]`)};`, 'y', B, `this.thread.y * ${H} + this.thread.x`, first);
}

/**
 * The state after the window, [B, W]: block T−1 of a sequence, or the state
 * carried in when `ok` (flags[1]) says the step is not applied.
 */
export function lastBlock(N: number, B: number, W: number): KernelSource {
  return {
    key: `seq.lastBlock:${N}:${B}:${W}`,
    output: [B * W],
    source: `function(seq, old, flags) {
      if (flags[1] > 0) { return seq[${N * W - B * W} + this.thread.x]; }
      return old[this.thread.x];
    }`,
  };
}

/** Σ weights·nll over the window, one thread: the loss in the order the host summed it. */
export function weightedSum(N: number): KernelSource {
  return {
    key: `seq.weightedSum:${N}`,
    output: [1],
    source: `function(nll, weights) {
      let s = 0;
      for (let i = 0; i < ${N}; i++) { s += weights[i] * nll[i]; }
      return s;
    }`,
  };
}

// ---- backward through time ----

/** LSTM pre-activation gradients of block t (lstmCellGrad and lstmGatesBackward in one). */
export function lstmGatesBackwardSeq(N: number, B: number, H: number, first: boolean, last: boolean): KernelSource {
  const G = 4 * H;
  const own = `this.thread.z * ${G} + this.thread.y * ${H} + this.thread.x`;
  const s = `this.thread.z * ${H} + this.thread.x`;
  const sb = `${streamOf('z', B)} * ${H} + this.thread.x`;
  const cPrev = first ? `c0[${sb}]` : `c[(this.thread.z - ${B}) * ${H} + this.thread.x]`;
  // the backward sweep starts at t = T − 1, where nothing flows in from later steps
  const dhNext = last ? '0' : `dhNext[${sb}]`;
  const dcNext = last ? '0' : `dcNext[${sb}]`;
  const args = [...(last ? [] : ['dhNext', 'dcNext']), 'dOut', 'act', 'c', ...(first ? ['c0'] : []), 'keep'];
  const a = `this.thread.z * ${G} + this.thread.x`;
  return seqStep(`seq.lstmGatesBackward:${N}:${B}:${H}:${first}`, [H, 4, N], args, `
        const dh = dOut[${s}] + ${dhNext};
        const cv = c[${s}];
        const tc = ${tanh('cv')};
        const ig = act[${a}]; const fg = act[${a} + ${H}]; const gg = act[${a} + ${2 * H}]; const og = act[${a} + ${3 * H}];
        if (this.thread.y == 3) { return dh * tc * og * (1 - og); }
        const d = dh * og * (1 - tc * tc) + ${dcNext};
        if (this.thread.y == 0) { return d * gg * ig * (1 - ig); }
        if (this.thread.y == 1) { return d * (${cPrev} * keep[this.thread.z]) * fg * (1 - fg); }
        return d * ig * (1 - gg * gg);`, 'z', B, own, last);
}

/** What reaches c_{t−1}: dc ⊙ f ⊙ keep, [B, H], with dc recomputed as in lstmGatesBackwardSeq. */
export function lstmCellCarryAt(B: number, H: number, last: boolean): KernelSource {
  const G = 4 * H;
  const row = `(t * ${B} + this.thread.y)`;
  const s = `${row} * ${H} + this.thread.x`;
  const b = `this.thread.y * ${H} + this.thread.x`;
  const a = `${row} * ${G} + this.thread.x`;
  return {
    key: `seq.lstmCellCarry:${B}:${H}:${last}`,
    output: [H, B],
    source: `function(${last ? '' : 'dhNext, dcNext, '}dOut, act, c, keep, t) {
      const dh = dOut[${s}] + ${last ? '0' : `dhNext[${b}]`};
      const cv = c[${s}];
      const tc = ${tanh('cv')};
      const d = dh * act[${a} + ${3 * H}] * (1 - tc * tc) + ${last ? '0' : `dcNext[${b}]`};
      return (d * act[${a} + ${H}]) * keep[${row}];
    }`,
  };
}

/** dh_{t−1} = (dPre_t · W_hh (+ direct)) ⊙ keep, [B, H]: block t of a gradient sequence times the recurrent weights. */
export function recurrentGradAt(B: number, G: number, H: number, direct: boolean, last: boolean): KernelSource {
  const row = `(t * ${B} + this.thread.y)`;
  // GRU: the part of dh that flows around the projections, dh ⊙ z (gruHiddenBackward)
  const add = direct
    ? `s += (dOut[${row} * ${H} + this.thread.x] + ${last ? '0' : `dhNext[this.thread.y * ${H} + this.thread.x]`}) * act[${row} * ${G} + ${H} + this.thread.x];`
    : '';
  const extra = direct ? `${last ? '' : 'dhNext, '}dOut, act, ` : '';
  return {
    key: `seq.recurrentGrad:${B}:${G}:${H}:${direct}:${direct && last}`,
    output: [H, B],
    source: `function(dPre, w, ${extra}keep, t) {
      let s = 0;
      for (let n = 0; n < ${G}; n++) { s += dPre[${row} * ${G} + n] * w[n * ${H} + this.thread.x]; }
      ${add}
      return s * keep[${row}];
    }`,
  };
}

/**
 * GRU pre-activation gradients of block t: which = 0 for the input projection,
 * 1 for the recurrent projection (they differ in the n block, where r multiplies).
 */
export function gruGatesBackwardSeq(N: number, B: number, H: number, which: 0 | 1, first: boolean, last: boolean): KernelSource {
  const G = 3 * H;
  const own = `this.thread.z * ${G} + this.thread.y * ${H} + this.thread.x`;
  const s = `this.thread.z * ${H} + this.thread.x`;
  const sb = `${streamOf('z', B)} * ${H} + this.thread.x`;
  const hPrev = first ? `h0[${sb}]` : `hseq[(this.thread.z - ${B}) * ${H} + this.thread.x]`;
  const a = `this.thread.z * ${G} + this.thread.x`;
  const args = [...(last ? [] : ['dhNext']), 'dOut', 'act', first ? 'h0' : 'hseq', 'rec', 'keep'];
  return seqStep(`seq.gruGatesBackward:${N}:${B}:${H}:${which}:${first}`, [H, 3, N], args, `
        const dh = dOut[${s}] + ${last ? '0' : `dhNext[${sb}]`};
        const r = act[${a}]; const z = act[${a} + ${H}]; const n = act[${a} + ${2 * H}];
        const dnPre = dh * (1 - z) * (1 - n * n);
        if (this.thread.y == 2) { return ${which === 0 ? 'dnPre' : 'dnPre * r'}; }
        if (this.thread.y == 1) { return dh * ((${hPrev} * keep[this.thread.z]) - n) * z * (1 - z); }
        return dnPre * rec[${a} + ${2 * H}] * r * (1 - r);`, 'z', B, own, last);
}

/** RNN pre-activation gradient of block t: (dOut + dhNext) ⊙ (1 − h²). */
export function rnnBackwardSeq(N: number, B: number, H: number, last: boolean): KernelSource {
  const s = `this.thread.y * ${H} + this.thread.x`;
  return seqStep(`seq.rnnBackward:${N}:${B}:${H}`, [H, N], [...(last ? [] : ['dhNext']), 'dOut', 'hseq'], `
        const hv = hseq[${s}];
        return (dOut[${s}] + ${last ? '0' : `dhNext[${streamOf('y', B)} * ${H} + this.thread.x]`}) * (1 - hv * hv);`, 'y', B, s, last);
}

/** dW_hh = Σ_t dRec_tᵀ · (keep ⊙ h_{t−1}), [G, H]: h_{−1} is the carried-in state, then the hidden sequence shifted one block. */
export function previousWeightGrad(N: number, B: number, G: number, H: number): KernelSource {
  return {
    key: `seq.previousWeightGrad:${N}:${B}:${G}:${H}`,
    output: [H, G],
    source: `function(dRec, hseq, h0, keep) {
      const k = this.thread.x; const n = this.thread.y;
      let s = 0;
      for (let m = 0; m < ${B}; m++) { s += dRec[m * ${G} + n] * (h0[m * ${H} + k] * keep[m]); }
      for (let m = ${B}; m < ${N}; m++) { s += dRec[m * ${G} + n] * (hseq[(m - ${B}) * ${H} + k] * keep[m]); }
      return s;
    }`,
  };
}

// ---- clipping and the optimizer, committed only for a finite step ----

/** total + Σ partial: the running sum of squares over the gradient tensors. */
export function accumulate(n: number, withTotal: boolean): KernelSource {
  return {
    key: `seq.accumulate:${n}:${withTotal}`,
    output: [1],
    source: `function(${withTotal ? 'total, ' : ''}partial) {
      let s = ${withTotal ? 'total[0]' : '0'};
      for (let i = 0; i < ${n}; i++) { s += partial[i]; }
      return s;
    }`,
  };
}

/**
 * [clip scale, ok]: min(1, maxNorm/‖g‖) (1 when maxNorm ≤ 0), and 1 when the
 * norm is finite and the loss finite and at most `lossLimit` (comparisons
 * with NaN or ∞ are false), else 0.
 */
export function clipFlags(): KernelSource {
  return {
    key: 'seq.clipFlags',
    output: [2],
    source: `function(sumSquares, loss, maxNorm, lossLimit) {
      const norm = Math.sqrt(sumSquares[0]);
      if (this.thread.x == 1) {
        if (norm < 3.0e38 && loss[0] <= lossLimit && loss[0] > -3.0e38) { return 1; }
        return 0;
      }
      if (maxNorm > 0 && norm > maxNorm) { return maxNorm / norm; }
      return 1;
    }`,
  };
}

/** Sums of |x| over chunks: finite exactly when every x is (an overflowing update shows as ∞ or NaN). */
export function chunkSumAbs(n: number, chunk: number): KernelSource {
  const chunks = Math.ceil(n / chunk);
  return {
    key: `seq.chunkSumAbs:${n}:${chunk}`,
    output: [chunks],
    source: `function(x) {
      const start = this.thread.x * ${chunk};
      let s = 0;
      for (let k = 0; k < ${chunk}; k++) {
        const i = start + k;
        if (i < ${n}) { s += Math.abs(x[i]); }
      }
      return s;
    }`,
  };
}

/** [clip scale, commit]: the update commits when the step was ok and the updated weights are finite. */
export function commitFlags(): KernelSource {
  return {
    key: 'seq.commitFlags',
    output: [2],
    source: `function(flags, weightSum) {
      if (this.thread.x == 0) { return flags[0]; }
      if (flags[1] > 0 && weightSum[0] < 3.0e38) { return 1; }
      return 0;
    }`,
  };
}

/** The new value where flags[1] commits the step, else the old one. */
export function commit(n: number): KernelSource {
  return {
    key: `seq.commit:${n}`,
    output: [n],
    source: `function(next, old, flags) {
      if (flags[1] > 0) { return next[this.thread.x]; }
      return old[this.thread.x];
    }`,
  };
}

// The update kernels read the clip scale from flags[0] (clipFlags); commit()
// then keeps the old values unless the whole step may be applied.

/** Adam first moment: m = β1·m + (1 − β1)·g·clip. */
export function adamFirstScaled(n: number): KernelSource {
  return {
    key: `seq.adamFirst:${n}`,
    output: [n],
    source: `function(m, g, flags, beta1) {
      return beta1 * m[this.thread.x] + (1 - beta1) * g[this.thread.x] * flags[0];
    }`,
  };
}

/** Adam second moment: v = β2·v + (1 − β2)·(g·clip)². */
export function adamSecondScaled(n: number): KernelSource {
  return {
    key: `seq.adamSecond:${n}`,
    output: [n],
    source: `function(v, g, flags, beta2) {
      const gc = g[this.thread.x] * flags[0];
      return beta2 * v[this.thread.x] + (1 - beta2) * gc * gc;
    }`,
  };
}

/** SGD with momentum: velocity = μ·velocity + g·clip. */
export function momentumVelocityScaled(n: number): KernelSource {
  return {
    key: `seq.momentumVelocity:${n}`,
    output: [n],
    source: `function(vel, g, flags, momentum) {
      return momentum * vel[this.thread.x] + g[this.thread.x] * flags[0];
    }`,
  };
}
