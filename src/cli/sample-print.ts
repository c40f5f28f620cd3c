import { Rng } from '../model/rng.js';
import { DOCUMENT_CAP, type SampleSession } from '../sample/session.js';
import type { SamplingOptions } from '../sample/strategy.js';
import type { SampleTally } from '../sample/text.js';

export type Decoding = { readonly kind: 'sample'; readonly options: SamplingOptions } | { readonly kind: 'beam'; readonly width: number };

export interface PrintRequest {
  readonly count: number;
  readonly decoding: Decoding;
  readonly seed: number;
  /** The prime as the model read it (dropped symbols left out). */
  readonly prime: string;
  readonly json: boolean;
  /** Plain text: a blank line between samples; without it each sample is one line apart (one document per line). */
  readonly blankLineBetween: boolean;
  /** Echoed in every JSON line, so the line says how to make it again. */
  readonly settings: Readonly<Record<string, unknown>>;
}

export interface PrintTarget {
  write(text: string): void;
  /** A remark for stderr. */
  note(text: string): void;
}

/**
 * Writes `count` samples, each from a fresh state and the same prime, all
 * drawn from one random stream seeded once, so the whole output repeats with
 * the seed and the first sample is the one `--count 1` gives.
 *
 * Plain text streams each sample as it is made: the prime, the text, a
 * newline, and (when asked) a blank line before the next. `--json` writes one
 * line per sample when it is done.
 */
export async function printSamples(session: SampleSession, request: PrintRequest, out: PrintTarget): Promise<void> {
  const { decoding, json } = request;
  const rng = Rng.scrambled(request.seed);
  for (let index = 0; index < request.count; index++) {
    if (!json) {
      if (index > 0 && request.blankLineBetween) out.write('\n');
      out.write(request.prime);
    }
    const pieces = decoding.kind === 'beam' ? session.beam(decoding.width) : session.draw(() => decoding.options, rng);
    let text = '';
    let next = await pieces.next();
    while (!next.done) {
      text += next.value;
      if (!json) out.write(next.value);
      next = await pieces.next();
    }
    const tally: SampleTally = next.value;
    const ending = session.endingOf(tally);
    if (ending === 'cap') out.note(`sample ${index + 1} reached ${DOCUMENT_CAP.toLocaleString('en-US')} symbols without the model ending its document; it was cut there.`);
    if (json) {
      const line = { event: 'sample', index, prime: request.prime, text, length: tally.symbols, logProb: tally.logProb, ending, ...request.settings };
      out.write(`${JSON.stringify(line)}\n`);
    } else {
      out.write('\n');
    }
  }
}
