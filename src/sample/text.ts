import type { Drawn } from './sampler.js';
import { StopFilter } from './stop.js';

/** How drawn symbols become printed text. */
export interface TextRules {
  /** The text one symbol prints as. */
  readonly piece: (id: number) => string;
  /** The symbol that ends the sample unprinted (END of a document), or null. */
  readonly endId: number | null;
  /** Sequences that end the sample at their first match, unprinted; matched in the generated text only. */
  readonly stops: readonly string[];
}

/** What one sample came to: symbols drawn (a stop sequence's and END included) and their summed log-probability. */
export interface SampleTally {
  readonly symbols: number;
  readonly logProb: number;
  /** What ended it early, or null when the symbols ran out. */
  readonly endedBy: 'stop' | 'document' | null;
}

/**
 * The printable text of a stream of drawn symbols, piece by piece as it may be
 * written; returns the tally. It stops reading the symbols at END or a stop
 * sequence, which ends their generator too.
 */
export async function* printable(drawn: AsyncIterable<Drawn>, rules: TextRules): AsyncGenerator<string, SampleTally> {
  const filter = new StopFilter(rules.stops);
  let symbols = 0;
  let logProb = 0;
  let endedBy: SampleTally['endedBy'] = null;
  for await (const d of drawn) {
    symbols += 1;
    logProb += d.logProb;
    if (d.id === rules.endId) {
      endedBy = 'document';
      break;
    }
    for (const p of filter.push(rules.piece(d.id))) yield p;
    if (filter.stopped) {
      endedBy = 'stop';
      break;
    }
  }
  for (const p of filter.flush()) yield p;
  return { symbols, logProb, endedBy };
}

/**
 * Whether `ids` (a whole continuation) has just ended by the same rules, for
 * searches that keep many continuations. Only its last symbols need reading:
 * a match that ended earlier would have ended it earlier.
 */
export function hasEnded(ids: readonly number[], rules: TextRules): boolean {
  if (ids.length === 0) return false;
  if (ids[ids.length - 1] === rules.endId) return true;
  if (rules.stops.length === 0) return false;
  // Every symbol prints at least one character, so this many symbols cover the longest stop sequence.
  const longest = Math.max(...rules.stops.map((s) => s.length));
  const tail = ids.slice(-longest).map(rules.piece).join('');
  return rules.stops.some((s) => tail.includes(s));
}
