import { xoroshiro128plus, xoroshiro128plusFromState } from 'pure-rand/generator/xoroshiro128plus';
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import type { RandomGenerator } from 'pure-rand/types/RandomGenerator';

/** The generator's state as plain numbers, so a checkpoint can store it and resume exactly. */
export type RngState = readonly number[];

/**
 * A seedable random stream whose state can be saved and restored, so `--resume`
 * continues with the very draws an uninterrupted run would have made.
 */
export class Rng {
  private gen: RandomGenerator;

  private constructor(gen: RandomGenerator) {
    this.gen = gen;
  }

  static seeded(seed: number): Rng {
    return new Rng(xoroshiro128plus(seed | 0));
  }

  /**
   * Like `seeded`, with the seed scrambled first. pure-rand's xoroshiro128plus
   * makes its first draw from a small seed s ≈ 1 − s·1.7e-8, so the first symbol
   * of every sample came from the far tail of the distribution (often a
   * document model's END, an empty name). Sampling uses this; training keeps
   * `seeded`, so the initial weights, and every result measured with them, stay
   * as they were.
   */
  static scrambled(seed: number): Rng {
    return new Rng(xoroshiro128plus(fmix32(seed | 0)));
  }

  static fromState(state: RngState): Rng {
    return new Rng(xoroshiro128plusFromState(state));
  }

  /** State after every draw so far. */
  get state(): RngState {
    return [...this.gen.getState()];
  }

  /** Uniform in [0, 1). */
  uniform(): number {
    return uniformFloat64(this.gen);
  }

  /** Uniform in [lo, hi). */
  between(lo: number, hi: number): number {
    return lo + (hi - lo) * this.uniform();
  }

  /** Standard normal (Box–Muller; the second value is not kept, so the state alone says what comes next). */
  normal(): number {
    const u = 1 - this.uniform();
    const v = this.uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
}

/** MurmurHash3's 32-bit finalizer: nearby seeds land far apart. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}
