// Kernel sources for the device-resident training step (src/train/resident-step.ts).
//
// Inside a gpu.js pipeline a kernel cannot write into part of a buffer: every
// call produces a whole output. So the time loop keeps each per-timestep
// tensor of a window in chunks of a few timesteps, each chunk one array
// [R = C·B, W] (time-major: block t = rows t·B … t·B + B − 1), and a step
// kernel writes its whole chunk: block t computed, every other row copied from
// the chunk's previous version (the pipeline double-buffers the two). With
// chunks of C steps the copies cost O(T·C·B·W) per window instead of
// O(T²·B·W); `concat` then assembles the chunks for the window-wide products.
// The arithmetic of every cell is the expression of its per-timestep twin in
// kernel-sources.ts, in the same order, so both paths agree to float32 rounding.
//
// Scalars: `t` is the timestep inside the chunk and `base` the chunk's first
// row in the window; arrays covering the whole window (the input projection,
// dOut, keep) are read at base + row. `first` variants serve a chunk's first
// step: they read the state entering the chunk ([B, W], the carried-in state
// or the previous chunk's last block) instead of block t − 1. `fresh`
// variants start a chunk's array (no previous version: other rows are zero).

import type { KernelSource } from './kernel-sources.js';

const sigmoid = (x: string): string => `1 / (1 + Math.exp(-(${x})))`;
const tanh = (x: string): string => `2 / (1 + Math.exp(-2 * (${x}))) - 1`;

/** Whether thread `axis` (a row of the chunk) lies in block t. */
const inBlock = (axis: 'y' | 'z', B: number): string => `this.thread.${axis} >= t * ${B} && this.thread.${axis} < t * ${B} + ${B}`;
/** This thread's stream b inside block t. */
const streamOf = (axis: 'y' | 'z', B: number): string => `(this.thread.${axis} - t * ${B})`;
/** This thread's row in the whole window. */
const windowRow = (axis: 'y' | 'z'): string => `(base + this.thread.${axis})`;

/** A chunk step: compute block t with `body` (returns its value), copy every other cell from `prev`. */
function chunkStep(key: string, output: KernelSource['output'], args: string[], body: string, rowAxis: 'y' | 'z', B: number, flat: string, fresh: boolean): KernelSource {
  const params = fresh ? args : ['prev', ...args];
  return {
    key: `${key}:${fresh}`,
    output,
    source: `function(${[...params, 't', 'base'].join(', ')}) {
      if (${inBlock(rowAxis, B)}) {
        ${body}
      }
      ${fresh ? 'return 0;' : `return prev[${flat}];`}
    }`,
  };
}

/**
 * hp = keep ⊙ h_{t−1} · W_hhᵀ + b_hh, [B, G]: h_{t−1} is block t−1 of the
 * hidden chunk, or the state entering the chunk at its first step.
 */
export function recurrentAt(B: number, G: number, H: number, first: boolean): KernelSource {
  const src = first ? 'hIn' : 'hseq';
  const row = first ? 'this.thread.y' : `((t - 1) * ${B} + this.thread.y)`;
  return {
    key: `seq.recurrentAt:${B}:${G}:${H}:${first}`,
    output: [G, B],
    flops: 2 * B * G * H,
    source: `function(${src}, keep, w, bias, t, base) {
      const n = this.thread.x;
      const kp = keep[base + t * ${B} + this.thread.y];
      let s = bias[n];
      for (let k = 0; k < ${H}; k++) { s += (${src}[${row} * ${H} + k] * kp) * w[n * ${H} + k]; }
      return s;
    }`,
  };
}

// ---- LSTM forward (gates i, f, g, o) ----

export function lstmGatesSeq(R: number, B: number, H: number, fresh: boolean): KernelSource {
  const G = 4 * H;
  const own = `this.thread.z * ${G} + this.thread.y * ${H} + this.thread.x`;
  return chunkStep(`seq.lstmGates:${R}:${B}:${H}`, [H, 4, R], ['xp', 'hp'], `
        const pre = xp[${windowRow('z')} * ${G} + this.thread.y * ${H} + this.thread.x] + hp[${streamOf('z', B)} * ${G} + this.thread.y * ${H} + this.thread.x];
        if (this.thread.y == 2) { return ${tanh('pre')}; }
        return ${sigmoid('pre')};`, 'z', B, own, fresh);
}

/** c_t = f ⊙ (keep ⊙ c_{t−1}) + i ⊙ g. */
export function lstmCellSeq(R: number, B: number, H: number, first: boolean): KernelSource {
  const G = 4 * H;
  const cPrev = first ? `cIn[${streamOf('y', B)} * ${H} + this.thread.x]` : `prev[(this.thread.y - ${B}) * ${H} + this.thread.x]`;
  return chunkStep(`seq.lstmCell:${R}:${B}:${H}`, [H, R], first ? ['act', 'cIn', 'keep'] : ['act', 'keep'], `
        const a = this.thread.y * ${G} + this.thread.x;
        return act[a + ${H}] * (${cPrev} * keep[${windowRow('y')}]) + act[a] * act[a + ${2 * H}];`, 'y', B, `this.thread.y * ${H} + this.thread.x`, first);
}

/** h_t = o ⊙ tanh(c_t). */
export function lstmHiddenSeq(R: number, B: number, H: number, fresh: boolean): KernelSource {
  const G = 4 * H;
  return chunkStep(`seq.lstmHidden:${R}:${B}:${H}`, [H, R], ['act', 'c'], `
        const cv = c[this.thread.y * ${H} + this.thread.x];
        return act[this.thread.y * ${G} + ${3 * H} + this.thread.x] * (${tanh('cv')});`, 'y', B, `this.thread.y * ${H} + this.thread.x`, fresh);
}

// ---- GRU forward (r, z, n; n = tanh(x_n + r ⊙ hp_n)) ----

/** Block t of a chunk set from a [B, W] tensor (the GRU's recurrent projections, kept for backward). */
export function writeBlock(R: number, B: number, W: number, fresh: boolean): KernelSource {
  return chunkStep(`seq.writeBlock:${R}:${B}:${W}`, [W, R], ['block'], `
        return block[${streamOf('y', B)} * ${W} + this.thread.x];`, 'y', B, `this.thread.y * ${W} + this.thread.x`, fresh);
}

export function gruGatesSeq(R: number, B: number, H: number, fresh: boolean): KernelSource {
  const G = 3 * H;
  const own = `this.thread.z * ${G} + this.thread.y * ${H} + this.thread.x`;
  const x = `${windowRow('z')} * ${G} + this.thread.y * ${H} + this.thread.x`;
  const xr = `${windowRow('z')} * ${G} + this.thread.x`;
  const r = `this.thread.z * ${G} + this.thread.x`;
  return chunkStep(`seq.gruGates:${R}:${B}:${H}`, [H, 3, R], ['xp', 'rec'], `
        if (this.thread.y < 2) { return ${sigmoid(`xp[${x}] + rec[${own}]`)}; }
        const r = ${sigmoid(`xp[${xr}] + rec[${r}]`)};
        return ${tanh(`xp[${x}] + r * rec[${own}]`)};`, 'z', B, own, fresh);
}

/** h_t = (1 − z) ⊙ n + z ⊙ (keep ⊙ h_{t−1}). */
export function gruHiddenSeq(R: number, B: number, H: number, first: boolean): KernelSource {
  const G = 3 * H;
  const hPrev = first ? `hIn[${streamOf('y', B)} * ${H} + this.thread.x]` : `prev[(this.thread.y - ${B}) * ${H} + this.thread.x]`;
  return chunkStep(`seq.gruHidden:${R}:${B}:${H}`, [H, R], first ? ['act', 'hIn', 'keep'] : ['act', 'keep'], `
        const z = act[this.thread.y * ${G} + ${H} + this.thread.x];
        return (1 - z) * act[this.thread.y * ${G} + ${2 * H} + this.thread.x] + z * (${hPrev} * keep[${windowRow('y')}]);`, 'y', B, `this.thread.y * ${H} + this.thread.x`, first);
}

// ---- vanilla RNN forward ----

export function rnnHiddenSeq(R: number, B: number, H: number, fresh: boolean): KernelSource {
  return chunkStep(`seq.rnnHidden:${R}:${B}:${H}`, [H, R], ['xp', 'hp'], `
        return ${tanh(`xp[${windowRow('y')} * ${H} + this.thread.x] + hp[${streamOf('y', B)} * ${H} + this.thread.x]`)};`, 'y', B, `this.thread.y * ${H} + this.thread.x`, fresh);
}

// ---- chunks and the window ----

/** The last block of a chunk, [B, W]: the state entering the next chunk. */
export function chunkEnd(R: number, B: number, W: number): KernelSource {
  return {
    key: `seq.chunkEnd:${R}:${B}:${W}`,
    output: [B * W],
    source: `function(chunk) { return chunk[${(R - B) * W} + this.thread.x]; }`,
  };
}

/** The window's chunks [rows_k, W] one after another, [Σ rows_k, W]. */
export function concat(rows: readonly number[], W: number): KernelSource {
  const names = rows.map((_, k) => `c${k}`);
  let start = 0;
  const branches = rows.map((r, k) => {
    const line = `if (this.thread.y < ${start + r}) { return c${k}[(this.thread.y - ${start}) * ${W} + this.thread.x]; }`;
    start += r;
    return line;
  });
  return {
    key: `seq.concat:${rows.join(',')}:${W}`,
    output: [W, start],
    source: `function(${names.join(', ')}) {
      ${branches.join('\n      ')}
      return 0;
    }`,
  };
}

/**
 * The state after the window, [B, W]: the last chunk's last block, or the
 * state carried in when flags[1] says the step is not applied.
 */
export function finalState(R: number, B: number, W: number): KernelSource {
  return {
    key: `seq.finalState:${R}:${B}:${W}`,
    output: [B * W],
    source: `function(chunk, old, flags) {
      if (flags[1] > 0) { return chunk[${(R - B) * W} + this.thread.x]; }
      return old[this.thread.x];
    }`,
  };
}

/** Σ weights·nll over the window, one thread, in the order the host sums it. */
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
// `end` variants serve the window's last step, where nothing flows in from later steps.

/** LSTM pre-activation gradients of block t (lstmCellGrad and lstmGatesBackward in one). */
export function lstmGatesBackwardSeq(R: number, B: number, H: number, first: boolean, fresh: boolean, end: boolean): KernelSource {
  const G = 4 * H;
  const own = `this.thread.z * ${G} + this.thread.y * ${H} + this.thread.x`;
  const s = `this.thread.z * ${H} + this.thread.x`;
  const sb = `${streamOf('z', B)} * ${H} + this.thread.x`;
  const cPrev = first ? `cIn[${sb}]` : `c[(this.thread.z - ${B}) * ${H} + this.thread.x]`;
  const dhNext = end ? '0' : `dhNext[${sb}]`;
  const dcNext = end ? '0' : `dcNext[${sb}]`;
  const args = [...(end ? [] : ['dhNext', 'dcNext']), 'dOut', 'act', 'c', ...(first ? ['cIn'] : []), 'keep'];
  const a = `this.thread.z * ${G} + this.thread.x`;
  return chunkStep(`seq.lstmGatesBackward:${R}:${B}:${H}:${first}:${end}`, [H, 4, R], args, `
        const dh = dOut[${windowRow('z')} * ${H} + this.thread.x] + ${dhNext};
        const cv = c[${s}];
        const tc = ${tanh('cv')};
        const ig = act[${a}]; const fg = act[${a} + ${H}]; const gg = act[${a} + ${2 * H}]; const og = act[${a} + ${3 * H}];
        if (this.thread.y == 3) { return dh * tc * og * (1 - og); }
        const d = dh * og * (1 - tc * tc) + ${dcNext};
        if (this.thread.y == 0) { return d * gg * ig * (1 - ig); }
        if (this.thread.y == 1) { return d * (${cPrev} * keep[${windowRow('z')}]) * fg * (1 - fg); }
        return d * ig * (1 - gg * gg);`, 'z', B, own, fresh);
}

/** What reaches c_{t−1}: dc ⊙ f ⊙ keep, [B, H], with dc recomputed as in lstmGatesBackwardSeq. */
export function lstmCellCarryAt(B: number, H: number, end: boolean): KernelSource {
  const G = 4 * H;
  const row = `(t * ${B} + this.thread.y)`;
  const b = `this.thread.y * ${H} + this.thread.x`;
  const a = `${row} * ${G} + this.thread.x`;
  return {
    key: `seq.lstmCellCarry:${B}:${H}:${end}`,
    output: [H, B],
    source: `function(${end ? '' : 'dhNext, dcNext, '}dOut, act, c, keep, t, base) {
      const dh = dOut[(base + ${row}) * ${H} + this.thread.x] + ${end ? '0' : `dhNext[${b}]`};
      const cv = c[${row} * ${H} + this.thread.x];
      const tc = ${tanh('cv')};
      const d = dh * act[${a} + ${3 * H}] * (1 - tc * tc) + ${end ? '0' : `dcNext[${b}]`};
      return (d * act[${a} + ${H}]) * keep[base + ${row}];
    }`,
  };
}

/** dh_{t−1} = (dPre_t · W_hh (+ direct)) ⊙ keep, [B, H]: block t of a gradient chunk times the recurrent weights. */
export function recurrentGradAt(B: number, G: number, H: number, direct: boolean, end: boolean): KernelSource {
  const row = `(t * ${B} + this.thread.y)`;
  // GRU: the part of dh that flows around the projections, dh ⊙ z (gruHiddenBackward)
  const add = direct
    ? `s += (dOut[(base + ${row}) * ${H} + this.thread.x] + ${end ? '0' : `dhNext[this.thread.y * ${H} + this.thread.x]`}) * act[${row} * ${G} + ${H} + this.thread.x];`
    : '';
  const extra = direct ? `${end ? '' : 'dhNext, '}dOut, act, ` : '';
  return {
    key: `seq.recurrentGrad:${B}:${G}:${H}:${direct}:${direct && end}`,
    output: [H, B],
    flops: 2 * B * G * H,
    source: `function(dPre, w, ${extra}keep, t, base) {
      let s = 0;
      for (let n = 0; n < ${G}; n++) { s += dPre[${row} * ${G} + n] * w[n * ${H} + this.thread.x]; }
      ${add}
      return s * keep[base + ${row}];
    }`,
  };
}

/**
 * GRU pre-activation gradients of block t: which = 0 for the input projection,
 * 1 for the recurrent projection (they differ in the n block, where r multiplies).
 */
export function gruGatesBackwardSeq(R: number, B: number, H: number, which: 0 | 1, first: boolean, fresh: boolean, end: boolean): KernelSource {
  const G = 3 * H;
  const own = `this.thread.z * ${G} + this.thread.y * ${H} + this.thread.x`;
  const sb = `${streamOf('z', B)} * ${H} + this.thread.x`;
  const hPrev = first ? `hIn[${sb}]` : `hseq[(this.thread.z - ${B}) * ${H} + this.thread.x]`;
  const a = `this.thread.z * ${G} + this.thread.x`;
  const args = [...(end ? [] : ['dhNext']), 'dOut', 'act', first ? 'hIn' : 'hseq', 'rec', 'keep'];
  return chunkStep(`seq.gruGatesBackward:${R}:${B}:${H}:${which}:${first}:${end}`, [H, 3, R], args, `
        const dh = dOut[${windowRow('z')} * ${H} + this.thread.x] + ${end ? '0' : `dhNext[${sb}]`};
        const r = act[${a}]; const z = act[${a} + ${H}]; const n = act[${a} + ${2 * H}];
        const dnPre = dh * (1 - z) * (1 - n * n);
        if (this.thread.y == 2) { return ${which === 0 ? 'dnPre' : 'dnPre * r'}; }
        if (this.thread.y == 1) { return dh * ((${hPrev} * keep[${windowRow('z')}]) - n) * z * (1 - z); }
        return dnPre * rec[${a} + ${2 * H}] * r * (1 - r);`, 'z', B, own, fresh);
}

/** RNN pre-activation gradient of block t: (dOut + dhNext) ⊙ (1 − h²). */
export function rnnBackwardSeq(R: number, B: number, H: number, fresh: boolean, end: boolean): KernelSource {
  const s = `this.thread.y * ${H} + this.thread.x`;
  return chunkStep(`seq.rnnBackward:${R}:${B}:${H}:${end}`, [H, R], [...(end ? [] : ['dhNext']), 'dOut', 'hseq'], `
        const hv = hseq[${s}];
        return (dOut[${windowRow('y')} * ${H} + this.thread.x] + ${end ? '0' : `dhNext[${streamOf('y', B)} * ${H} + this.thread.x]`}) * (1 - hv * hv);`, 'y', B, s, fresh);
}

/** dW_hh = Σ_t dRec_tᵀ · (keep ⊙ h_{t−1}), [G, H]: h_{−1} is the carried-in state, then the hidden sequence shifted one block. */
export function previousWeightGrad(N: number, B: number, G: number, H: number): KernelSource {
  return {
    key: `seq.previousWeightGrad:${N}:${B}:${G}:${H}`,
    output: [H, G],
    flops: 2 * N * G * H,
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

/** [loss, Σg², Σ|w|]: what a step reports, as one result, so it comes back in one readback on every backend. */
export function report(): KernelSource {
  return {
    key: 'seq.report',
    output: [3],
    source: `function(loss, sq, weightSum) {
      if (this.thread.x == 0) { return loss[0]; }
      if (this.thread.x == 1) { return sq[0]; }
      return weightSum[0];
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
