import { DataError } from './errors.js';

/** Percent of the corpus for each part, in corpus order: train first, then val, then test. */
export interface SplitPercents {
  train: number;
  val: number;
  test: number;
}

export interface Split {
  train: Int32Array;
  val: Int32Array;
  test: Int32Array;
}

export const DEFAULT_SPLIT: Readonly<SplitPercents> = Object.freeze({ train: 90, val: 5, test: 5 });

/**
 * Cuts ids into contiguous train / val / test parts by position (no shuffling:
 * a character model needs unbroken text, and held-out text should be text the
 * model has not seen nearby). The parts are views on `ids`, not copies.
 *
 * Boundaries are floor(n·p/100) of the cumulative percentages, so the three
 * sizes always add up to n and a 0% part is exactly empty.
 */
export function splitIds(ids: Int32Array, percents: SplitPercents = DEFAULT_SPLIT): Split {
  validateSplit(percents);
  const n = ids.length;
  const trainEnd = Math.floor((n * percents.train) / 100);
  const valEnd = Math.floor((n * (percents.train + percents.val)) / 100);
  return {
    train: ids.subarray(0, trainEnd),
    val: ids.subarray(trainEnd, valEnd),
    test: ids.subarray(valEnd, n),
  };
}

export function validateSplit(percents: SplitPercents): void {
  for (const part of ['train', 'val', 'test'] as const) {
    const value = percents[part];
    if (!Number.isInteger(value) || value < 0) {
      throw new DataError(`The ${part} split must be a whole, non-negative percentage, not ${value}.`);
    }
  }
  if (percents.train === 0) {
    throw new DataError('The train split must be more than 0%.');
  }
  const sum = percents.train + percents.val + percents.test;
  if (sum !== 100) {
    throw new DataError(`The train/val/test percentages must add up to 100, not ${sum}.`);
  }
}

/** Parses the command-line form "90,5,5" (or "90/5/5"). */
export function parseSplit(text: string): SplitPercents {
  const parts = text.split(/[,/]/);
  if (parts.length !== 3 || parts.some((p) => !/^\s*\d+\s*$/.test(p))) {
    throw new DataError(`The split must look like 90,5,5 (train,val,test percentages), not ${JSON.stringify(text)}.`);
  }
  const [train, val, test] = parts.map(Number);
  const percents = { train, val, test };
  validateSplit(percents);
  return percents;
}
