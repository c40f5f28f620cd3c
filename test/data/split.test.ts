import { describe, expect, it } from 'vitest';
import { DataError } from '../../src/data/errors.js';
import { parseSplit, splitIds } from '../../src/data/split.js';

const range = (n: number) => Int32Array.from({ length: n }, (_, i) => i);

describe('splitIds', () => {
  it('defaults to 90/5/5, contiguous and in order', () => {
    const { train, val, test } = splitIds(range(1000));
    expect([train.length, val.length, test.length]).toEqual([900, 50, 50]);
    expect(train[0]).toBe(0);
    expect(val[0]).toBe(900);
    expect(test[0]).toBe(950);
    expect(test[49]).toBe(999);
  });

  it('rounds boundaries down so the parts always add up to the whole', () => {
    const { train, val, test } = splitIds(range(7));
    // floor(6.3) = 6, floor(6.65) = 6
    expect([train.length, val.length, test.length]).toEqual([6, 0, 1]);
    for (const n of [1, 2, 19, 101, 12345]) {
      const s = splitIds(range(n), { train: 80, val: 15, test: 5 });
      expect(s.train.length + s.val.length + s.test.length).toBe(n);
    }
  });

  it('gives an empty part for 0%, like the 90/10 tinyshakespeare benchmark split', () => {
    const { train, val, test } = splitIds(range(1_115_394), { train: 90, val: 10, test: 0 });
    expect(train.length).toBe(1_003_854);
    expect(val.length).toBe(111_540);
    expect(test.length).toBe(0);
    expect(splitIds(range(10), { train: 100, val: 0, test: 0 }).train.length).toBe(10);
  });

  it('returns views on the ids, not copies', () => {
    const ids = range(100);
    const { val } = splitIds(ids);
    expect(val.buffer).toBe(ids.buffer);
  });

  it.each([
    [{ train: 90, val: 5, test: 4 }, 'must add up to 100, not 99'],
    [{ train: 90, val: 15, test: -5 }, 'test split must be a whole, non-negative percentage'],
    [{ train: 90.5, val: 4.5, test: 5 }, 'train split must be a whole'],
    [{ train: Number.NaN, val: 5, test: 5 }, 'train split must be a whole'],
    [{ train: 0, val: 50, test: 50 }, 'train split must be more than 0%'],
  ])('refuses %j', (percents, message) => {
    expect(() => splitIds(range(10), percents)).toThrow(DataError);
    expect(() => splitIds(range(10), percents)).toThrow(message);
  });
});

describe('parseSplit', () => {
  it('reads train/val/test percentages', () => {
    expect(parseSplit('90/5/5')).toEqual({ train: 90, val: 5, test: 5 });
    expect(parseSplit('90/10/0')).toEqual({ train: 90, val: 10, test: 0 });
  });

  it.each(['90/10', '90/5/5/0', '90/5/x', '90/-5/15', '', '90/5.0/5', '50/25/24'])('refuses %j', (text) => {
    expect(() => parseSplit(text)).toThrow(DataError);
  });
});
