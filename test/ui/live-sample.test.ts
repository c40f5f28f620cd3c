import { describe, expect, it, vi } from 'vitest';
import { LiveSampler, oneCallAtATime, type LiveSampleCallbacks } from '../../src/cli/live-sample.js';
import type { KernelSource } from '../../src/compute/kernel-sources.js';
import type { KernelRunner } from '../../src/compute/kernels.js';
import type { SamplingOptions } from '../../src/sample/strategy.js';

const OPTIONS: SamplingOptions = { temperature: 0.8, topK: 0, topP: 1 };

function recorder() {
  const events: string[] = [];
  const on: LiveSampleCallbacks = {
    start: (seed) => events.push(`start ${seed}`),
    text: (s) => events.push(s),
    end: (completed) => events.push(completed ? 'end' : 'cut'),
  };
  return { events, on };
}

/** Symbols that each take a macrotask, as a real sampler's kernels may. */
function slow(text: string, seen?: (o: SamplingOptions) => void) {
  return async function* (_seed: number, options: () => SamplingOptions) {
    for (const ch of text) {
      await new Promise((r) => setTimeout(r, 1));
      seen?.(options());
      yield ch;
    }
  };
}

describe('LiveSampler', () => {
  it('streams a sample between start and end', async () => {
    const s = new LiveSampler(slow('abc'), OPTIONS);
    const { events, on } = recorder();
    await s.start(5, on);
    expect(events).toEqual(['start 5', 'a', 'b', 'c', 'end']);
    expect(s.busy).toBe(false);
  });

  it('a new sample ends the one in progress first; two never run at once', async () => {
    const long = 'x'.repeat(500);
    const s = new LiveSampler(slow(long), OPTIONS);
    const { events, on } = recorder();
    const first = s.start(1, on);
    await vi.waitFor(() => expect(events.length).toBeGreaterThanOrEqual(3), { interval: 2 });
    const second = s.start(2, on);
    await Promise.all([first, second]);
    const cut = events.indexOf('cut');
    expect(cut).toBeGreaterThan(0);
    expect(events[cut + 1]).toBe('start 2');
    expect(events.slice(cut + 1)).toEqual(['start 2', ...long, 'end']);
  });

  it('options set between symbols apply to the next symbol', async () => {
    const temps: number[] = [];
    const s = new LiveSampler(slow('abcdef', (o) => temps.push(o.temperature)), OPTIONS);
    const { events, on } = recorder();
    const done = s.start(1, on);
    await vi.waitFor(() => expect(events).toContain('b'));
    s.set({ temperature: 1.3 });
    const at = temps.length;
    await done;
    expect(temps.slice(0, 2)).toEqual([0.8, 0.8]);
    expect(temps.slice(at)).toEqual(Array(6 - at).fill(1.3));
    expect(s.current).toEqual({ temperature: 1.3, topK: 0, topP: 1 });
  });

  it('pause holds generation between symbols until resume; cancel ends it', async () => {
    const s = new LiveSampler(slow('x'.repeat(1000)), OPTIONS);
    const { events, on } = recorder();
    const done = s.start(1, on);
    await vi.waitFor(() => expect(events.length).toBeGreaterThan(2), { interval: 2 });
    s.pause();
    await new Promise((r) => setTimeout(r, 40));
    const held = events.length;
    await new Promise((r) => setTimeout(r, 40));
    expect(events.length).toBe(held);
    s.resume();
    await vi.waitFor(() => expect(events.length).toBeGreaterThan(held + 2));
    await s.cancel();
    await done;
    expect(events.at(-1)).toBe('cut');
    expect(s.busy).toBe(false);
  });

  it('lets the event loop in while generating, even when every symbol is ready at once', async () => {
    const s = new LiveSampler(async function* () {
      for (let i = 0; i < 200_000; i++) yield 'x';
    }, OPTIONS);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    await s.start(1, { start() {}, text() {}, end() {} });
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(0);
  });
});

describe('oneCallAtATime', () => {
  it('never has two kernel calls in flight, keeps their results apart, and forwards everything else', async () => {
    let inFlight = 0;
    let most = 0;
    const fake = {
      backend: 'webasm',
      executedBackends: ['webasm'],
      async run(src: KernelSource, x: number) {
        inFlight++;
        most = Math.max(most, inFlight);
        await new Promise((r) => setTimeout(r, 2));
        inFlight--;
        if (x < 0) throw new Error('bad');
        return Float32Array.of(x, src.key.length);
      },
      destroy: () => 'destroyed',
    } as unknown as KernelRunner;
    const runner = oneCallAtATime(fake);
    const src = { key: 'k', source: '', output: [2] } as unknown as KernelSource;
    const a = (async () => {
      const out: number[] = [];
      for (let i = 0; i < 5; i++) out.push((await runner.run(src, i))[0]);
      return out;
    })();
    const b = (async () => {
      const out: number[] = [];
      for (let i = 10; i < 15; i++) out.push((await runner.run(src, i))[0]);
      return out;
    })();
    await expect(runner.run(src, -1)).rejects.toThrow('bad');
    expect(await a).toEqual([0, 1, 2, 3, 4]);
    expect(await b).toEqual([10, 11, 12, 13, 14]);
    expect(most).toBe(1);
    expect(runner.backend).toBe('webasm');
    expect(runner.executedBackends).toEqual(['webasm']);
    expect((runner.destroy as () => unknown)()).toBe('destroyed');
  });
});
