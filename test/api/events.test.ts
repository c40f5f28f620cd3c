import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { eventsOf, type EventSource } from '../../src/api/events.js';

/** Emits 1, 2, 3, … a tick apart until stopped or `count` is reached, then resolves to what it emitted, or fails. */
class Counter implements EventSource<number, number[]> {
  private readonly listeners: ((n: number) => void)[] = [];
  stopped = false;
  constructor(
    private readonly count: number,
    private readonly failAt: number | null = null,
  ) {}
  subscribe(listener: (n: number) => void): void {
    this.listeners.push(listener);
  }
  stop(): void {
    this.stopped = true;
  }
  async run(): Promise<number[]> {
    const sent: number[] = [];
    for (let n = 1; n <= this.count && !this.stopped; n++) {
      await sleep(1);
      if (n === this.failAt) throw new Error(`failed at ${n}`);
      for (const l of this.listeners) l(n);
      sent.push(n);
    }
    return sent;
  }
}

describe('eventsOf', () => {
  it('yields every event in order and returns what run resolves to', async () => {
    const run = eventsOf(new Counter(5));
    const seen: number[] = [];
    let next = await run.next();
    for (; !next.done; next = await run.next()) seen.push(next.value);
    expect(seen).toEqual([1, 2, 3, 4, 5]);
    expect(next.value).toEqual([1, 2, 3, 4, 5]);
  });

  it('throws a failure from next() after the events before it, even while the caller was busy', async () => {
    const unhandled: unknown[] = [];
    const note = (e: unknown): void => void unhandled.push(e);
    process.on('unhandledRejection', note);
    const seen: number[] = [];
    try {
      await expect(
        (async () => {
          for await (const n of eventsOf(new Counter(10, 3))) {
            seen.push(n);
            await sleep(20);
          }
        })(),
      ).rejects.toThrow('failed at 3');
    } finally {
      process.off('unhandledRejection', note);
    }
    expect(seen).toEqual([1, 2]);
    expect(unhandled).toEqual([]);
  });

  it('an abort, or leaving the loop, stops the source and waits for its run to end', async () => {
    const stop = new AbortController();
    const aborted = new Counter(1000);
    const seen: number[] = [];
    for await (const n of eventsOf(aborted, stop.signal)) {
      seen.push(n);
      if (n === 3) stop.abort();
    }
    expect(aborted.stopped).toBe(true);
    // The step in progress when the abort came may still finish and report, as the trainer's does.
    expect(seen.slice(0, 3)).toEqual([1, 2, 3]);
    expect(seen.length).toBeLessThanOrEqual(4);

    const left = new Counter(1000);
    for await (const n of eventsOf(left)) if (n === 2) break;
    expect(left.stopped).toBe(true);
  });
});
