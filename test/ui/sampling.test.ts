import { describe, expect, it } from 'vitest';
import { clampTemperature, cooler, nextTopK, warmer } from '../../src/ui/sampling.js';

describe('sampling keys', () => {
  it('step the temperature by 0.1 without drift, clamped to 0.05–2.0', () => {
    let s = { temperature: 0.8, topK: 0 };
    for (let i = 0; i < 10; i++) s = warmer(s);
    expect(s.temperature).toBe(1.8);
    for (let i = 0; i < 5; i++) s = warmer(s);
    expect(s.temperature).toBe(2);
    for (let i = 0; i < 30; i++) s = cooler(s);
    expect(s.temperature).toBe(0.05);
    expect(warmer(s).temperature).toBe(0.15);
    expect(clampTemperature(0)).toBe(0.05);
  });

  it('cycle top-k off → 5 → 10 → 40 → off, from anywhere', () => {
    const seen: number[] = [];
    let s = { temperature: 1, topK: 0 };
    for (let i = 0; i < 5; i++) seen.push((s = nextTopK(s)).topK);
    expect(seen).toEqual([5, 10, 40, 0, 5]);
    expect(nextTopK({ temperature: 1, topK: 7 }).topK).toBe(10);
    expect(nextTopK({ temperature: 1, topK: 100 }).topK).toBe(0);
  });
});
