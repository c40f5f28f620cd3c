// gpu.js kernel sources, generated with every dimension baked in as a literal.
// Literal bounds matter for correctness, not only speed: a loop whose bound comes
// from a scalar argument is silently capped at loopMaxIterations on every backend
// (STACK-NOTES.md). All tensors are flat row-major Float32Arrays; token ids travel
// as floats (exact below 2^24).
//
// Matrix kernels use a 2D output [cols, rows] so thread.x / thread.y are the
// column and row without an integer division, which the GL backends compute in
// float and can get wrong for large indices.

export interface KernelSource {
  /** Cache key: identical keys produce identical kernels. */
  readonly key: string;
  readonly source: string;
  /** gpu.js output: [length], [cols, rows] or [cols, rows, layers]; results flatten row-major. */
  readonly output: [number] | [number, number] | [number, number, number];
  /**
   * Set on the matrix products, so a backend with a faster product primitive
   * can run them there (same arguments, same result layout) instead.
   */
  readonly product?: Product;
  /**
   * Multiply-add FLOPs (2 per multiply-add) of a kernel that is a matrix
   * product in a form no product primitive takes (the resident step's
   * per-timestep products), so a pipeline's GFLOP/s counts them too.
   */
  readonly flops?: number;
}

/**
 * A matrix product over row-major operands, named by which operand is transposed:
 * nt: out[M,N] = a[M,K]·w[N,K]ᵀ + bias[N] (+ add[M,N]);  args (a, w, bias[, add])
 * nn: out[M,K] = a[M,N]·b[N,K] (+ add[M,K]);               args (a, b[, add])
 * tn: out[N,K] = a[M,N]ᵀ·x[M,K];                           args (a, x)
 */
export interface Product {
  readonly kind: 'nt' | 'nn' | 'tn';
  readonly M: number;
  readonly N: number;
  readonly K: number;
  readonly add: boolean;
}

const sigmoid = (x: string): string => `1 / (1 + Math.exp(-(${x})))`;
// tanh through one exp: webasm runs Math.tanh as a per-lane JS call (STACK-NOTES.md).
const tanh = (x: string): string => `2 / (1 + Math.exp(-2 * (${x}))) - 1`;

/** out[m][n] = sum_k a[m,k] * w[n,k] + bias[n] (+ add[m,n]): y = x·Wᵀ + b. */
export function linearNT(M: number, N: number, K: number, withAdd: boolean): KernelSource {
  const args = withAdd ? 'a, w, bias, add' : 'a, w, bias';
  return {
    key: `linearNT:${M}:${N}:${K}:${withAdd}`,
    output: [N, M],
    product: { kind: 'nt', M, N, K, add: withAdd },
    source: `function(${args}) {
      const n = this.thread.x; const m = this.thread.y;
      let s = bias[n];
      for (let k = 0; k < ${K}; k++) { s += a[m * ${K} + k] * w[n * ${K} + k]; }
      ${withAdd ? `s += add[m * ${N} + n];` : ''}
      return s;
    }`,
  };
}

/** out[m][k] = sum_n a[m,n] * b[n,k] (+ add[m,k]): the input gradient dX = dY·W. */
export function matmulNN(M: number, N: number, K: number, withAdd: boolean): KernelSource {
  const args = withAdd ? 'a, b, add' : 'a, b';
  return {
    key: `matmulNN:${M}:${N}:${K}:${withAdd}`,
    output: [K, M],
    product: { kind: 'nn', M, N, K, add: withAdd },
    source: `function(${args}) {
      const k = this.thread.x; const m = this.thread.y;
      let s = 0;
      for (let n = 0; n < ${N}; n++) { s += a[m * ${N} + n] * b[n * ${K} + k]; }
      ${withAdd ? `s += add[m * ${K} + k];` : ''}
      return s;
    }`,
  };
}

/** out[n][k] = sum_m a[m,n] * x[m,k]: the weight gradient dW = dYᵀ·X over a whole window. */
export function matmulTN(M: number, N: number, K: number): KernelSource {
  return {
    key: `matmulTN:${M}:${N}:${K}`,
    output: [K, N],
    product: { kind: 'tn', M, N, K, add: false },
    source: `function(a, x) {
      const k = this.thread.x; const n = this.thread.y;
      let s = 0;
      for (let m = 0; m < ${M}; m++) { s += a[m * ${N} + n] * x[m * ${K} + k]; }
      return s;
    }`,
  };
}

/** out[n] = sum_m a[m,n]: bias gradients. */
export function columnSum(M: number, N: number): KernelSource {
  return {
    key: `columnSum:${M}:${N}`,
    output: [N],
    source: `function(a) {
      let s = 0;
      for (let m = 0; m < ${M}; m++) { s += a[m * ${N} + this.thread.x]; }
      return s;
    }`,
  };
}

/** out[r][c] = table[ids[r], c]: embedding lookup for a window. */
export function gatherRows(R: number, C: number): KernelSource {
  return {
    key: `gatherRows:${R}:${C}`,
    output: [C, R],
    source: `function(table, ids) {
      const c = this.thread.x; const r = this.thread.y;
      const id = ids[r];
      return table[id * ${C} + c];
    }`,
  };
}

/** out[r][g] = w[g, ids[r]] + bias[g]: one-hot input times Wᵀ, i.e. a column gather. */
export function gatherColumnsBias(R: number, G: number, V: number): KernelSource {
  return {
    key: `gatherColumnsBias:${R}:${G}:${V}`,
    output: [G, R],
    source: `function(w, bias, ids) {
      const g = this.thread.x; const r = this.thread.y;
      const id = ids[r];
      return w[g * ${V} + id] + bias[g];
    }`,
  };
}

/**
 * out[v][c] = sum_r [ids[r] == v] * d[r, c]: scatter-add of row gradients by id,
 * written gather-style (one thread per output cell) as every gpu.js backend needs.
 */
export function scatterRows(R: number, C: number, V: number): KernelSource {
  return {
    key: `scatterRows:${R}:${C}:${V}`,
    output: [C, V],
    source: `function(d, ids) {
      let s = 0;
      for (let r = 0; r < ${R}; r++) {
        if (ids[r] == this.thread.y) { s += d[r * ${C} + this.thread.x]; }
      }
      return s;
    }`,
  };
}

/** out[g][v] = sum_r [ids[r] == v] * d[r, g]: the one-hot layer's weight gradient [G, V]. */
export function scatterColumns(R: number, G: number, V: number): KernelSource {
  return {
    key: `scatterColumns:${R}:${G}:${V}`,
    output: [V, G],
    source: `function(d, ids) {
      const v = this.thread.x; const g = this.thread.y;
      let s = 0;
      for (let r = 0; r < ${R}; r++) {
        if (ids[r] == v) { s += d[r * ${G} + g]; }
      }
      return s;
    }`,
  };
}

/** out[i] = a[i] * b[i]: dropout masks (forward and backward). */
export function multiply(n: number): KernelSource {
  return {
    key: `multiply:${n}`,
    output: [n],
    source: `function(a, b) { return a[this.thread.x] * b[this.thread.x]; }`,
  };
}

/**
 * Gate kernels have a 3D output [H, blocks, B]: thread.x is the unit u,
 * thread.y the gate block q, thread.z the batch row b, which flattens to the
 * same [B, G] layout as a 2D [G, B] output. With q on thread.y, every branch on
 * the gate is uniform along thread.x, the axis gpu.js's webasm backend
 * vectorises, so it never computes both sides of a branch under a lane mask
 * (lstmGates 32×1024: 613 → 228 µs CPU), and no backend has to recover q from
 * j by division.
 *
 * Index expressions are written inline from this.thread.*, never through a
 * local: gpu.js types such an expression Integer, while any local holding it
 * decays to a float, so every read through it converts back, and webasm's
 * unit-stride read (src/compute/patches) must also check the float lanes.
 * Measured, the wasm of lstmCell 32×256: 21.8 µs through locals, 7.0 inline.
 */
const X = 'this.thread.x';
/** Element (thread.row, offset + x) of a row-major array `width` wide. */
function at(row: 'y' | 'z', width: number, offset = 0): string {
  return `this.thread.${row} * ${width} + ${offset > 0 ? `${offset} + ` : ''}${X}`;
}
/** In a gate kernel: this thread's own gate q = thread.y of row b = thread.z in [B, G]. */
function ownGate(H: number, blocks: number): string {
  return `this.thread.z * ${blocks * H} + this.thread.y * ${H} + ${X}`;
}

// ---- LSTM (PyTorch gate order i, f, g, o) ----

/** Post-activation gates from the two projections: σ for i, f, o; tanh for g. */
export function lstmGates(B: number, H: number): KernelSource {
  return {
    key: `lstmGates:${B}:${H}`,
    output: [H, 4, B],
    source: `function(xp, hp) {
      const pre = xp[${ownGate(H, 4)}] + hp[${ownGate(H, 4)}];
      if (this.thread.y == 2) { return ${tanh('pre')}; }
      return ${sigmoid('pre')};
    }`,
  };
}

/** c = f ⊙ c_prev + i ⊙ g. */
export function lstmCell(B: number, H: number): KernelSource {
  const G = 4 * H;
  return {
    key: `lstmCell:${B}:${H}`,
    output: [H, B],
    source: `function(act, cPrev) {
      return act[${at('y', G, H)}] * cPrev[${at('y', H)}] + act[${at('y', G)}] * act[${at('y', G, 2 * H)}];
    }`,
  };
}

/** h = o ⊙ tanh(c). */
export function lstmHidden(B: number, H: number): KernelSource {
  const G = 4 * H;
  return {
    key: `lstmHidden:${B}:${H}`,
    output: [H, B],
    source: `function(act, c) {
      const cv = c[${at('y', H)}];
      return act[${at('y', G, 3 * H)}] * (${tanh('cv')});
    }`,
  };
}

/**
 * One whole LSTM step for inference, [c; h] as an [H, B, 2] output (c rows,
 * then h rows): every thread recomputes the activations it needs, so no gate
 * tensor is written. At batch 1 one call instead of three (lstmGates,
 * lstmCell, lstmHidden) matters more than the recomputed exps. The
 * expressions are those of the three kernels, so c and h are the same bits.
 */
export function lstmStep(B: number, H: number): KernelSource {
  const G = 4 * H;
  return {
    key: `lstmStep:${B}:${H}`,
    output: [H, B, 2],
    source: `function(xp, hp, cPrev) {
      const ip = xp[${at('y', G)}] + hp[${at('y', G)}];
      const fp = xp[${at('y', G, H)}] + hp[${at('y', G, H)}];
      const gp = xp[${at('y', G, 2 * H)}] + hp[${at('y', G, 2 * H)}];
      const ig = ${sigmoid('ip')};
      const fg = ${sigmoid('fp')};
      const gg = ${tanh('gp')};
      const c = fg * cPrev[${at('y', H)}] + ig * gg;
      if (this.thread.z == 0) { return c; }
      const op = xp[${at('y', G, 3 * H)}] + hp[${at('y', G, 3 * H)}];
      return ${sigmoid('op')} * (${tanh('c')});
    }`,
  };
}

/**
 * The gradient reaching c_t: dc = dh·o·(1 − tanh²c) + dcNext, with dh = dOut +
 * dhNext the total reaching h_t. Computed once per element here, so the gate
 * kernel below takes a tanh only for o (it took one for each of the four gates).
 */
export function lstmCellGrad(B: number, H: number): KernelSource {
  const G = 4 * H;
  const s = at('y', H);
  return {
    key: `lstmCellGrad:${B}:${H}`,
    output: [H, B],
    source: `function(dOut, dhNext, dcNext, act, c) {
      const dh = dOut[${s}] + dhNext[${s}];
      const cv = c[${s}];
      const tc = ${tanh('cv')};
      return dh * act[${at('y', G, 3 * H)}] * (1 - tc * tc) + dcNext[${s}];
    }`,
  };
}

/** What reaches c_{t−1} through the cell update: dc ⊙ f. */
export function lstmCellCarry(B: number, H: number): KernelSource {
  const G = 4 * H;
  return {
    key: `lstmCellCarry:${B}:${H}`,
    output: [H, B],
    source: `function(dc, act) { return dc[${at('y', H)}] * act[${at('y', G, H)}]; }`,
  };
}

/** Pre-activation gate gradients at one timestep, from dh = dOut + dhNext and dc (lstmCellGrad). */
export function lstmGatesBackward(B: number, H: number): KernelSource {
  const G = 4 * H;
  const s = at('z', H);
  return {
    key: `lstmGatesBackward:${B}:${H}`,
    output: [H, 4, B],
    source: `function(dOut, dhNext, dc, act, c, cPrev) {
      const dh = dOut[${s}] + dhNext[${s}];
      const ig = act[${at('z', G)}]; const fg = act[${at('z', G, H)}]; const gg = act[${at('z', G, 2 * H)}]; const og = act[${at('z', G, 3 * H)}];
      if (this.thread.y == 3) {
        const cv = c[${s}];
        const tc = ${tanh('cv')};
        return dh * tc * og * (1 - og);
      }
      const d = dc[${s}];
      if (this.thread.y == 0) { return d * gg * ig * (1 - ig); }
      if (this.thread.y == 1) { return d * cPrev[${s}] * fg * (1 - fg); }
      return d * ig * (1 - gg * gg);
    }`,
  };
}

// ---- GRU (PyTorch: r, z, n; n = tanh(x_n + r ⊙ (W_hn h + b_hn))) ----

/** Post-activation r, z, n. */
export function gruGates(B: number, H: number): KernelSource {
  const G = 3 * H;
  const own = ownGate(H, 3);
  return {
    key: `gruGates:${B}:${H}`,
    output: [H, 3, B],
    source: `function(xp, hp) {
      if (this.thread.y < 2) { return ${sigmoid(`xp[${own}] + hp[${own}]`)}; }
      const r = ${sigmoid(`xp[${at('z', G)}] + hp[${at('z', G)}]`)};
      return ${tanh(`xp[${own}] + r * hp[${own}]`)};
    }`,
  };
}

/** h = (1 − z) ⊙ n + z ⊙ h_prev. */
export function gruHidden(B: number, H: number): KernelSource {
  const G = 3 * H;
  return {
    key: `gruHidden:${B}:${H}`,
    output: [H, B],
    source: `function(act, hPrev) {
      const z = act[${at('y', G, H)}];
      return (1 - z) * act[${at('y', G, 2 * H)}] + z * hPrev[${at('y', H)}];
    }`,
  };
}

/** One whole GRU step for inference: h from the two projections in one call (gruGates then gruHidden, same expressions). */
export function gruStep(B: number, H: number): KernelSource {
  const G = 3 * H;
  return {
    key: `gruStep:${B}:${H}`,
    output: [H, B],
    source: `function(xp, hp, hPrev) {
      const r = ${sigmoid(`xp[${at('y', G)}] + hp[${at('y', G)}]`)};
      const z = ${sigmoid(`xp[${at('y', G, H)}] + hp[${at('y', G, H)}]`)};
      const n = ${tanh(`xp[${at('y', G, 2 * H)}] + r * hp[${at('y', G, 2 * H)}]`)};
      return (1 - z) * n + z * hPrev[${at('y', H)}];
    }`,
  };
}

/**
 * Gradients of the pre-activations at one timestep. With which = 0 the result is
 * the gradient of the input projection (x·W_ihᵀ + b_ih); with which = 1 that of the
 * recurrent projection (h·W_hhᵀ + b_hh), which differs only in the n block, where
 * the reset gate multiplies.
 */
export function gruGatesBackward(B: number, H: number, which: 0 | 1): KernelSource {
  const G = 3 * H;
  const s = at('z', H);
  return {
    key: `gruGatesBackward:${B}:${H}:${which}`,
    output: [H, 3, B],
    source: `function(dOut, dhNext, act, hPrev, hp) {
      const dh = dOut[${s}] + dhNext[${s}];
      const r = act[${at('z', G)}]; const z = act[${at('z', G, H)}]; const n = act[${at('z', G, 2 * H)}];
      const dnPre = dh * (1 - z) * (1 - n * n);
      if (this.thread.y == 2) { return ${which === 0 ? 'dnPre' : 'dnPre * r'}; }
      if (this.thread.y == 1) { return dh * (hPrev[${s}] - n) * z * (1 - z); }
      return dnPre * hp[${at('z', G, 2 * H)}] * r * (1 - r);
    }`,
  };
}

/** The part of dh_prev that flows around the projections: dh ⊙ z. */
export function gruHiddenBackward(B: number, H: number): KernelSource {
  const G = 3 * H;
  const s = at('y', H);
  return {
    key: `gruHiddenBackward:${B}:${H}`,
    output: [H, B],
    source: `function(dOut, dhNext, act) {
      return (dOut[${s}] + dhNext[${s}]) * act[${at('y', G, H)}];
    }`,
  };
}

// ---- vanilla tanh RNN ----

export function rnnHidden(B: number, H: number): KernelSource {
  return {
    key: `rnnHidden:${B}:${H}`,
    output: [H * B],
    source: `function(xp, hp) {
      return ${tanh(`xp[${X}] + hp[${X}]`)};
    }`,
  };
}

/** dpre = (dOut + dhNext) ⊙ (1 − h²). */
export function rnnHiddenBackward(B: number, H: number): KernelSource {
  return {
    key: `rnnHiddenBackward:${B}:${H}`,
    output: [B * H],
    source: `function(dOut, dhNext, h) {
      const hv = h[${X}];
      return (dOut[${X}] + dhNext[${X}]) * (1 - hv * hv);
    }`,
  };
}

// ---- softmax cross-entropy ----

/** Row-wise log-sum-exp of logits [R, V]. */
export function rowLogSumExp(R: number, V: number): KernelSource {
  return {
    key: `rowLogSumExp:${R}:${V}`,
    output: [R],
    source: `function(logits) {
      const r = this.thread.x;
      let mx = logits[r * ${V}];
      for (let v = 1; v < ${V}; v++) { mx = Math.max(mx, logits[r * ${V} + v]); }
      let s = 0;
      for (let v = 0; v < ${V}; v++) { s += Math.exp(logits[r * ${V} + v] - mx); }
      return mx + Math.log(s);
    }`,
  };
}

/** Per-position negative log-likelihood in nats. */
export function nll(R: number, V: number): KernelSource {
  return {
    key: `nll:${R}:${V}`,
    output: [R],
    source: `function(logits, lse, targets) {
      const r = this.thread.x;
      const t = targets[r];
      return lse[r] - logits[r * ${V} + t];
    }`,
  };
}

/** dlogits = (softmax − onehot(target)) · weight[r]; weight carries the 1/N of the mean and masks padding. */
export function softmaxCrossEntropyBackward(R: number, V: number): KernelSource {
  return {
    key: `softmaxCrossEntropyBackward:${R}:${V}`,
    output: [V, R],
    source: `function(logits, lse, targets, weight) {
      let onehot = 0;
      if (targets[this.thread.y] == this.thread.x) { onehot = 1; }
      return (Math.exp(logits[this.thread.y * ${V} + this.thread.x] - lse[this.thread.y]) - onehot) * weight[this.thread.y];
    }`,
  };
}

// ---- optimizer ----

/** Sums of squares over chunks of `chunk` elements; the few partial sums are added on the host. */
export function chunkSumSquares(n: number, chunk: number): KernelSource {
  const chunks = Math.ceil(n / chunk);
  return {
    key: `chunkSumSquares:${n}:${chunk}`,
    output: [chunks],
    source: `function(g) {
      const start = this.thread.x * ${chunk};
      let s = 0;
      for (let k = 0; k < ${chunk}; k++) {
        const i = start + k;
        if (i < ${n}) { const v = g[i]; s += v * v; }
      }
      return s;
    }`,
  };
}

/** Adam first moment: m = β1·m + (1 − β1)·g·clip. */
export function adamFirstMoment(n: number): KernelSource {
  return {
    key: `adamFirstMoment:${n}`,
    output: [n],
    source: `function(m, g, beta1, clipScale) {
      return beta1 * m[this.thread.x] + (1 - beta1) * g[this.thread.x] * clipScale;
    }`,
  };
}

/** Adam second moment: v = β2·v + (1 − β2)·(g·clip)². */
export function adamSecondMoment(n: number): KernelSource {
  return {
    key: `adamSecondMoment:${n}`,
    output: [n],
    source: `function(v, g, beta2, clipScale) {
      const gc = g[this.thread.x] * clipScale;
      return beta2 * v[this.thread.x] + (1 - beta2) * gc * gc;
    }`,
  };
}

/**
 * Adam step with the bias corrections folded into the step size and epsilon
 * (PyTorch's update, rearranged): p ← p − stepSize·m / (√v + epsHat).
 */
export function adamUpdate(n: number): KernelSource {
  return {
    key: `adamUpdate:${n}`,
    output: [n],
    source: `function(p, m, v, stepSize, epsHat) {
      return p[this.thread.x] - stepSize * m[this.thread.x] / (Math.sqrt(v[this.thread.x]) + epsHat);
    }`,
  };
}

/** SGD with momentum: velocity = μ·velocity + g·clip. */
export function momentumVelocity(n: number): KernelSource {
  return {
    key: `momentumVelocity:${n}`,
    output: [n],
    source: `function(vel, g, momentum, clipScale) {
      return momentum * vel[this.thread.x] + g[this.thread.x] * clipScale;
    }`,
  };
}

/** p ← p − lr·velocity. */
export function momentumUpdate(n: number): KernelSource {
  return {
    key: `momentumUpdate:${n}`,
    output: [n],
    source: `function(p, vel, lr) {
      return p[this.thread.x] - lr * vel[this.thread.x];
    }`,
  };
}
