import { DataError } from '../data/errors.js';

/**
 * Fewer windows than this per stream and an epoch is over before the model
 * has seen its corpus in enough pieces to learn from: a 3 KB text at the
 * default 32 × 64 gives each stream 1 window.
 */
export const MIN_WINDOWS_PER_STREAM = 20;
/** Shorter windows teach a recurrent model almost nothing about context; below this the guardrail stops shortening. */
export const MIN_SEQ = 8;

export interface WindowShape {
  readonly batch: number;
  readonly seq: number;
}

/** What the guardrail chose for a corpus too small for the requested batch × seq; absent when it fits. */
export interface SmallCorpus {
  readonly requested: WindowShape;
  /** What the run uses instead (the requested shape when only the validation split is short). */
  readonly chosen: WindowShape;
  readonly trainChars: number;
  readonly windowsPerStream: number;
  readonly valChars: number;
  /** Streams the validation split is scored along: fewer than `chosen.batch` when it is shorter than one window. */
  readonly valStreams: number;
  /** One sentence saying what was chosen and why, for the plain log, the dashboard and --json. */
  readonly note: string;
}

/** Windows each of `batch` streams gives over a training split of `n` ids (as BatchStream cuts it). */
export function windowsPerStream(n: number, batch: number, seq: number): number {
  return Math.max(0, Math.floor((Math.floor(n / batch) - 1) / seq));
}

/**
 * Streams to score an evaluation split of `scored` positions along. The run's
 * own batch when the split holds at least one whole window; otherwise only as
 * many streams as each get a full `seq` of text (at least one), because B
 * streams of a few characters each would score mostly cold starts. The trainer
 * and `charlm eval` both use this, so eval repeats the run's validation loss.
 */
export function evalStreams(batch: number, seq: number, scored: number): number {
  if (scored >= batch * seq) return batch;
  return Math.max(1, Math.min(batch, Math.floor(scored / seq)));
}

/**
 * The window shape a run on this split should use. Batch shrinks first (to
 * the most streams that still give MIN_WINDOWS_PER_STREAM windows each), since
 * fewer streams only cost parallelism while a shorter window costs the model
 * context; with one stream left, seq shrinks to the longest that gives that
 * many windows, but not below MIN_SEQ (or the requested seq if smaller). A
 * training split that cannot hold one window even then is refused.
 *
 * With `strict`, any change is refused instead, in one sentence. `unit` names
 * what the splits count (`tokens` with a tiktoken vocabulary).
 */
export function fitWindows(trainChars: number, valChars: number, requested: WindowShape, strict: boolean, unit = 'characters'): SmallCorpus | null {
  const { batch, seq } = requested;
  const have = windowsPerStream(trainChars, batch, seq);
  let chosen: WindowShape = requested;
  if (have < MIN_WINDOWS_PER_STREAM) {
    if (strict) {
      const fit = shrink(trainChars, requested);
      throw new DataError(
        `The training split has ${count(trainChars)} ${unit}, which gives ${plural(have, 'window')} per stream at --batch ${batch} --seq ${seq} where ${MIN_WINDOWS_PER_STREAM} are needed; ` +
          `choose a smaller --batch or --seq${fit ? ` (without --strict charlm would use --batch ${fit.batch} --seq ${fit.seq})` : ' or a longer corpus'}.`,
      );
    }
    const fit = shrink(trainChars, requested);
    if (fit === null) {
      const least = Math.min(seq, MIN_SEQ) + 1;
      throw new DataError(
        `The training split has ${count(trainChars)} ${unit}, fewer than the ${least} that one window of 1 stream × ${least} ${unit} needs; use a longer corpus.`,
      );
    }
    chosen = fit;
  }
  const valScored = Math.max(0, valChars - 1);
  const valShort = valChars > 0 && valScored < chosen.batch * chosen.seq;
  if (valShort && strict) {
    throw new DataError(
      `The validation split has ${count(valChars)} ${unit}, shorter than one window of --batch ${chosen.batch} × --seq ${chosen.seq} (${count(chosen.batch * chosen.seq)}); ` +
        'give it a larger share with --split, or choose a smaller --batch or --seq.',
    );
  }
  if (chosen === requested && !valShort) return null;
  const valStreams = evalStreams(chosen.batch, chosen.seq, valScored);
  const parts: string[] = [];
  if (chosen !== requested) {
    parts.push(
      `the training split (${count(trainChars)} ${unit}) gives ${plural(have, 'window')} per stream at --batch ${batch} --seq ${seq}, fewer than ${MIN_WINDOWS_PER_STREAM}, ` +
        `so this run uses --batch ${chosen.batch} --seq ${chosen.seq} (${plural(windowsPerStream(trainChars, chosen.batch, chosen.seq), 'window')} per stream)`,
    );
  }
  if (valShort) {
    parts.push(
      `the validation split (${count(valChars)} ${unit}) is shorter than one window of ${chosen.batch} × ${chosen.seq}, so it is scored along ${plural(valStreams, 'stream')}`,
    );
  }
  return {
    requested,
    chosen,
    trainChars,
    windowsPerStream: windowsPerStream(trainChars, chosen.batch, chosen.seq),
    valChars,
    valStreams,
    note: `Small corpus: ${parts.join('; ')}; --strict refuses instead.`,
  };
}

/** The reduced shape (see fitWindows), or null when not even one window of the shortest allowed seq fits. */
function shrink(n: number, { batch, seq }: WindowShape): WindowShape | null {
  for (let b = batch - 1; b >= 1; b--) {
    if (windowsPerStream(n, b, seq) >= MIN_WINDOWS_PER_STREAM) return { batch: b, seq };
  }
  const s = Math.min(seq, Math.max(Math.floor((n - 1) / MIN_WINDOWS_PER_STREAM), Math.min(seq, MIN_SEQ)));
  return windowsPerStream(n, 1, s) >= 1 ? { batch: 1, seq: s } : null;
}

const count = (n: number): string => n.toLocaleString('en-US');
const plural = (n: number, word: string): string => `${count(n)} ${word}${n === 1 ? '' : 's'}`;
