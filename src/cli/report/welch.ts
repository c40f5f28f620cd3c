/** Mean, sample sd and count of one row's seeds. */
export interface Sample {
  readonly mean: number;
  readonly sd: number;
  readonly n: number;
}

export interface Welch {
  /** (b.mean − a.mean) over the standard error of the difference; ±Infinity when neither sample varies. */
  readonly t: number;
  /** Welch–Satterthwaite degrees of freedom. */
  readonly df: number;
  /** |t| beyond the two-sided 95% critical value at df. */
  readonly significant: boolean;
}

// Two-sided 95% critical values of Student's t; a df between entries takes the smaller df's (the stricter) value.
const CRITICAL: readonly (readonly [number, number])[] = [
  [1, 12.706], [2, 4.303], [3, 3.182], [4, 2.776], [5, 2.571], [6, 2.447], [7, 2.365], [8, 2.306], [9, 2.262],
  [10, 2.228], [12, 2.179], [15, 2.131], [20, 2.086], [30, 2.042], [60, 2.0], [120, 1.98],
];

export function criticalT(df: number): number {
  let value = CRITICAL[0][1];
  for (const [d, v] of CRITICAL) if (df >= d) value = v;
  return df >= 1000 ? 1.96 : value;
}

/** Welch's unequal-variance t test of b against a; null when either has fewer than two seeds. */
export function welch(a: Sample, b: Sample): Welch | null {
  if (a.n < 2 || b.n < 2) return null;
  const va = (a.sd * a.sd) / a.n;
  const vb = (b.sd * b.sd) / b.n;
  const diff = b.mean - a.mean;
  if (va + vb === 0) return { t: diff === 0 ? 0 : diff > 0 ? Infinity : -Infinity, df: a.n + b.n - 2, significant: diff !== 0 };
  const t = diff / Math.sqrt(va + vb);
  const df = (va + vb) ** 2 / (va ** 2 / (a.n - 1) + vb ** 2 / (b.n - 1));
  return { t, df, significant: Math.abs(t) > criticalT(df) };
}
