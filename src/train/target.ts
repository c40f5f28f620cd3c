/** The part of a validation pass that placing a target needs. */
export interface TargetPoint {
  readonly step: number;
  /** Training time when the pass ran (evaluations and saves excluded). */
  readonly trainMs: number;
  /** Bits per character of the validation text, whatever the tokenizer. */
  readonly textBpc: number;
}

/** Where a validation curve first reaches a target. */
export interface Reached {
  readonly steps: number;
  readonly seconds: number;
}

/**
 * The default target: the highest of the runs' best values, so every run
 * with a curve reaches it. Null when no run has a curve.
 */
export function defaultTarget(curves: readonly (readonly TargetPoint[])[]): number | null {
  const bests = curves.filter((c) => c.length > 0).map((c) => Math.min(...c.map((p) => p.textBpc)));
  return bests.length ? Math.max(...bests) : null;
}

/**
 * The step and training time at which the curve first falls to `target`,
 * interpolated linearly between the two passes either side of the crossing
 * (the first pass itself when it is already there); null when it never does.
 */
export function reachTarget(curve: readonly TargetPoint[], target: number): Reached | null {
  const i = curve.findIndex((p) => p.textBpc <= target);
  if (i < 0) return null;
  const at = curve[i];
  if (i === 0) return { steps: at.step, seconds: at.trainMs / 1000 };
  const before = curve[i - 1];
  const f = (before.textBpc - target) / (before.textBpc - at.textBpc);
  return {
    steps: Math.round(before.step + f * (at.step - before.step)),
    seconds: (before.trainMs + f * (at.trainMs - before.trainMs)) / 1000,
  };
}
