/** How the learning rate moves over the run. */
export type Schedule =
  | { readonly kind: 'constant' }
  /** Linear warmup over `warmup` steps, then cosine decay to `minFraction`·lr at the last step. */
  | { readonly kind: 'cosine'; readonly warmup: number; readonly minFraction: number }
  /** Linear warmup, then lr·gamma^floor((step − warmup)/every). */
  | { readonly kind: 'step'; readonly warmup: number; readonly every: number; readonly gamma: number };

/** Learning rate for update number `step` (0-based) of `total`. */
export function learningRate(schedule: Schedule, lr: number, step: number, total: number): number {
  if (schedule.kind === 'constant') return lr;
  if (step < schedule.warmup) return (lr * (step + 1)) / schedule.warmup;
  const after = step - schedule.warmup;
  if (schedule.kind === 'step') return lr * schedule.gamma ** Math.floor(after / schedule.every);
  const span = Math.max(1, total - schedule.warmup - 1);
  const progress = Math.min(1, after / span);
  const min = lr * schedule.minFraction;
  return min + 0.5 * (lr - min) * (1 + Math.cos(Math.PI * progress));
}
