import { cleanup, render } from 'ink-testing-library';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LiveSampler } from '../../src/cli/live-sample.js';
import type { SamplingOptions } from '../../src/sample/strategy.js';
import { Dashboard, type DashboardControls } from '../../src/ui/dashboard.js';
import { createDashboardStore, type DashboardStore } from '../../src/ui/dashboard-state.js';
import type { TerminalSize } from '../../src/ui/use-terminal-size.js';
import { fitWindows } from '../../src/train/guardrails.js';
import { live, plain, ScriptedRun, START } from './scripted-run.js';

afterEach(() => cleanup());

const SIZE_80x24 = { columns: 80, rows: 24 };

function mount(opts: { size?: TerminalSize; controls?: (run: ScriptedRun, store: DashboardStore) => Partial<DashboardControls>; sampleEvery?: number } = {}) {
  const store = createDashboardStore();
  const run = new ScriptedRun(store);
  const controls = run.controls(opts.controls?.(run, store));
  const r = render(
    <Dashboard store={store} controls={controls} initialSampling={{ temperature: 0.8, topK: 0 }} sampleEvery={opts.sampleEvery ?? 100} size={'size' in opts ? opts.size : SIZE_80x24} />,
  );
  return { store, run, r, frame: () => plain(r.lastFrame()), screen: () => live(r.lastFrame()) };
}

/** Key presses reach the app through stdin's 'readable' event; let Ink read and React draw. */
async function press(r: ReturnType<typeof render>, keys: string): Promise<void> {
  for (const k of keys) {
    r.stdin.write(k);
    await new Promise((res) => setTimeout(res, 5));
  }
}

/** Ink lets go of stdin when the app exits (useApp().exit unmounts it). */
const exited = (r: ReturnType<typeof render>): boolean => r.stdin.listenerCount('readable') === 0;

describe('training dashboard', () => {
  it('shows header, progress with ETA, loss chart with legend and best val, metrics, sample, status and keys', async () => {
    const { store, run, screen, frame } = mount();
    run.start().steps(700);
    store.dispatch({ event: 'live-sample-start', step: 700, seed: 42, onDemand: false });
    store.dispatch({ event: 'live-sample-text', text: 'Call me Ishmael. Some years ago' });
    await vi.waitFor(() => expect(frame()).toContain('Call me Ishmael'));
    const text = screen().join('\n');
    // Header: corpus and size, vocabulary, model, parameters, backend, seed.
    expect(text).toContain('moby-dick (1.2 MB)');
    expect(text).toContain('vocab 79');
    expect(text).toContain('LSTM 2×128, embed 64');
    expect(text).toContain('237,903 params');
    expect(text).toContain('seed 1');
    expect(text).toContain('backend webasm + wasm-gemm (2 threads)');
    // Progress: step/total, epoch, elapsed, ETA from the smoothed rate (12,288 chars/s = 6 steps/s; 4,300 steps left), chars/s.
    expect(text).toMatch(/step 700\/5,000 14\.0% · epoch 1\.40\/10/);
    expect(text).toContain('elapsed 1:59 · ETA 11:57 · 12k chars/s · 6.00 steps/s');
    // Chart: legend, y labels, best val marked; metrics beside it.
    expect(text).toMatch(/loss nats\/char +━ train +━ val +◆ best val/);
    expect(text).toMatch(/\d\.\d\d┤/);
    expect(text.match(/◆/g)!.length).toBeGreaterThanOrEqual(3);
    expect(text).toMatch(/train loss +\d\.\d{4}/);
    expect(text).toMatch(/val loss +\d\.\d{4} ◆ best/);
    expect(text).toMatch(/val ppl +\d+\.\d\d/);
    expect(text).toMatch(/val bpc +\d\.\d{3}/);
    expect(text).toMatch(/best val +\d\.\d{4} @ 500/);
    expect(text).toContain('learn rate 2.00e-3');
    expect(text).toContain('grad norm  0.800');
    // Sample pane with the current settings, streaming marker; status; keys.
    expect(text).toContain('sample @ step 700 · seed 42 · temperature 0.80 · top-k off ● streaming');
    expect(text).toContain('● training');
    expect(text).toContain('+/- temperature  k top-k  r resample  p pause  s save  q quit  ? help');
    // Log lines stay above the dashboard.
    expect(frame()).toContain('· eval @ 500: val loss');
  });

  it.each([
    [80, 24],
    [100, 30],
    [120, 40],
    [60, 18],
  ])('fits %i×%i: never taller than rows − 1 (no full-screen redraw), never wider than the terminal', async (columns, rows) => {
    const { store, run, screen } = mount({ size: { columns, rows } });
    run.start().steps(600);
    store.dispatch({ event: 'live-sample-start', step: 600, seed: 1, onDemand: false });
    store.dispatch({ event: 'live-sample-text', text: 'word '.repeat(400) + '\nlast line' });
    await vi.waitFor(() => expect(screen().join('\n')).toContain('last line'));
    const lines = screen();
    expect(lines.length).toBeLessThanOrEqual(rows - 1);
    for (const l of lines) expect([...l].length).toBeLessThanOrEqual(columns);
    // The width is used: the progress line and the chart's axis reach across it.
    const bar = lines.find((l) => l.startsWith('▕'))!;
    expect([...bar].length).toBeGreaterThanOrEqual(columns - 1);
  });

  it('re-lays out when the terminal is resized', async () => {
    const { run, r, screen } = mount({ size: undefined });
    run.start().steps(10);
    const stdout = r.stdout as unknown as { columns: number; rows: number; emit(e: string): void };
    const resize = async (columns: number, rows: number): Promise<string[]> => {
      Object.defineProperty(stdout, 'columns', { value: columns, configurable: true });
      Object.defineProperty(stdout, 'rows', { value: rows, configurable: true });
      stdout.emit('resize');
      await vi.waitFor(() => expect(screen().length).toBe(rows - 1));
      return screen();
    };
    const big = await resize(120, 40);
    expect(Math.max(...big.map((l) => [...l].length))).toBeGreaterThan(100);
    const small = await resize(80, 24);
    expect(Math.max(...small.map((l) => [...l].length))).toBeLessThanOrEqual(80);
  });

  it('+ and - change the temperature shown and hand it over at the key press, clamped to 0.05–2.0', async () => {
    const { run, r, frame } = mount();
    run.start();
    await press(r, '+');
    await vi.waitFor(() => expect(frame()).toContain('temperature 0.90'));
    expect(run.sampling.at(-1)).toEqual({ temperature: 0.9, topK: 0 });
    await press(r, '--');
    await vi.waitFor(() => expect(frame()).toContain('temperature 0.70'));
    await press(r, '-'.repeat(10));
    await vi.waitFor(() => expect(frame()).toContain('temperature 0.05'));
    await press(r, '+'.repeat(25));
    await vi.waitFor(() => expect(frame()).toContain('temperature 2.00'));
    expect(run.sampling.at(-1)!.temperature).toBe(2);
  });

  it('keys sent together in one read each count', async () => {
    const { run, r, frame } = mount();
    run.start();
    r.stdin.write('++k');
    await vi.waitFor(() => expect(frame()).toContain('temperature 1.00 · top-k 5'));
  });

  it('k cycles top-k: off, 5, 10, 40, off', async () => {
    const { run, r, frame } = mount();
    run.start();
    for (const shown of ['5', '10', '40', 'off']) {
      await press(r, 'k');
      await vi.waitFor(() => expect(frame()).toContain(`top-k ${shown}`));
    }
    expect(run.sampling.map((s) => s.topK)).toEqual([5, 10, 40, 0]);
  });

  it('the next sampled character uses the temperature set by + (dashboard → live sampler → the draw)', async () => {
    // A stand-in for the model: it draws one symbol per permit the test hands out, recording the options it drew with.
    const drawnWith: number[] = [];
    const waiting: (() => void)[] = [];
    let permits = 0;
    const permit = (): Promise<void> => (permits > 0 ? (permits--, Promise.resolve()) : new Promise((res) => waiting.push(res)));
    const release = (): void => {
      const w = waiting.shift();
      if (w) w();
      else permits++;
    };
    const stream = async function* (_seed: number, options: () => SamplingOptions) {
      for (const symbol of 'abcde') {
        await permit();
        drawnWith.push(options().temperature);
        yield symbol;
      }
    };
    const sampler = new LiveSampler(stream, { temperature: 0.8, topK: 0, topP: 1 });
    const { store, run, r, frame } = mount({
      controls: () => ({ setSampling: (s) => sampler.set(s), resample: () => void sampler.start(7, sink(store)) }),
    });
    run.start().steps(3);
    await press(r, 'r');
    release();
    await vi.waitFor(() => expect(drawnWith).toEqual([0.8]));
    await press(r, '+');
    release();
    await vi.waitFor(() => expect(drawnWith).toEqual([0.8, 0.9]));
    await press(r, '++');
    release();
    await vi.waitFor(() => expect(drawnWith).toEqual([0.8, 0.9, 1.1]));
    await vi.waitFor(() => expect(frame()).toContain('abc▍'));
    expect(frame()).toContain('(on demand)');
    release();
    release();
    await sampler.cancel();
    await vi.waitFor(() => expect(frame()).not.toContain('streaming'));
  });

  it('r asks for a sample now, and the text streams in as it is generated', async () => {
    const { store, run, r, frame } = mount({ sampleEvery: 0 });
    run.start().steps(5);
    expect(frame()).toContain('r samples from the current weights');
    await press(r, 'r');
    expect(run.calls).toContain('resample');
    store.dispatch({ event: 'live-sample-start', step: 5, seed: 9, onDemand: true });
    store.dispatch({ event: 'live-sample-text', text: 'The' });
    await vi.waitFor(() => expect(frame()).toMatch(/sample @ step 5 \(on demand\).*● streaming/));
    await vi.waitFor(() => expect(frame()).toContain('The▍'));
    store.dispatch({ event: 'live-sample-text', text: ' sea' });
    await vi.waitFor(() => expect(frame()).toContain('The sea▍'));
    store.dispatch({ event: 'live-sample-end' });
    await vi.waitFor(() => expect(frame()).not.toContain('streaming'));
  });

  it('p pauses training (no step events while paused) and resumes it', async () => {
    const { run, r, frame } = mount();
    run.start().steps(5);
    await press(r, 'p');
    expect(run.calls).toEqual(['pause']);
    run.steps(50);
    expect(run.step).toBe(5);
    await vi.waitFor(() => expect(frame()).toContain('❚❚ paused (p resumes)'));
    expect(frame()).toContain('step 5/5,000');
    expect(frame()).toContain('· paused at step 5');
    await press(r, 'p');
    expect(run.calls).toEqual(['pause', 'resume']);
    run.steps(1);
    await vi.waitFor(() => expect(frame()).toContain('step 6/5,000'));
    expect(frame()).toContain('● training');
  });

  it('s saves now: the status says so until the checkpoint event, which is logged', async () => {
    const { run, r, frame } = mount();
    run.start().steps(5);
    await press(r, 's');
    expect(run.calls).toEqual(['save']);
    await vi.waitFor(() => expect(frame()).toContain('· saved latest @ 5 → /runs/moby/latest.safetensors'));
    expect(frame()).not.toContain('saving latest…');
  });

  it('q stops the run, waits for latest to be saved and done, then leaves', async () => {
    const { run, r, frame } = mount();
    run.start().steps(5);
    expect(exited(r)).toBe(false);
    await press(r, 'q');
    expect(run.calls).toEqual(['stop:quit']);
    await vi.waitFor(() => expect(exited(r)).toBe(true));
    // Left only after the trainer's save and done.
    expect(run.calls).toEqual(['stop:quit', 'saved']);
    expect(frame()).toContain('■ stopped');
    expect(frame()).toContain('· saved latest @ 5 → /runs/moby/latest.safetensors');
    // Keys after q do nothing more.
    await press(r, 'ps');
    expect(run.calls).toEqual(['stop:quit', 'saved']);
  });

  it('Ctrl-C stops as an interrupt (the CLI exits 130) and also waits for the save', async () => {
    const { run, r, frame } = mount();
    run.start().steps(5);
    await press(r, '\u0003');
    expect(run.calls).toEqual(['stop:interrupt']);
    await vi.waitFor(() => expect(frame()).toContain('stopping: finishing the step, saving latest…'));
    await vi.waitFor(() => expect(exited(r)).toBe(true));
    expect(run.calls).toEqual(['stop:interrupt', 'saved']);
  });

  it('logs what the small-corpus guardrail chose, and the header shows the batch × seq in use', async () => {
    const { store, frame } = mount({ size: { columns: 160, rows: 30 } });
    const smallCorpus = fitWindows(2700, 150, { batch: 32, seq: 64 }, false)!;
    store.dispatch({ ...START, batch: 2, seq: 64, smallCorpus });
    await vi.waitFor(() => expect(frame()).toContain('Small corpus: the training split (2,700 characters) gives 1 window per stream at --batch 32 --seq 64'));
    expect(frame()).toContain('batch 2×64');
  });

  it('? shows the keys in full and hides them again', async () => {
    const { run, r, frame } = mount();
    run.start().steps(5);
    await press(r, '?');
    await vi.waitFor(() => expect(frame()).toContain('keys (? closes)'));
    expect(frame()).toContain('top-k: off → 5 → 10 → 40 → off');
    expect(frame()).toContain('save latest and quit (Ctrl-C: the same, exit status 130)');
    await press(r, '?');
    await vi.waitFor(() => expect(frame()).not.toContain('keys (? closes)'));
    expect(frame()).toContain('loss nats/char');
  });
});

function sink(store: DashboardStore) {
  return {
    start: (seed: number) => store.dispatch({ event: 'live-sample-start', step: 3, seed, onDemand: true }),
    text: (text: string) => store.dispatch({ event: 'live-sample-text', text }),
    end: () => store.dispatch({ event: 'live-sample-end' }),
  };
}
