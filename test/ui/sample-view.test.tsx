import { afterEach, describe, expect, it, vi } from 'vitest';
import type { SampleViewControls } from '../../src/ui/sample-view.js';
import { plain } from './scripted-run.js';

// Colour is how the prime is set apart; Ink's colour support is decided when it is first imported, so force it before.
process.env.FORCE_COLOR = '1';
const { cleanup, render } = await import('ink-testing-library');
const { SampleView } = await import('../../src/ui/sample-view.js');
const { createSampleViewStore } = await import('../../src/ui/sample-view-state.js');

afterEach(() => cleanup());

const INFO = { checkpoint: 'run/latest.safetensors', model: 'LSTM 2×128 · step 3000', backend: 'webasm + wasm-gemm (2 threads)' };

function mount(prime = '', size = { columns: 80, rows: 24 }) {
  const store = createSampleViewStore();
  const calls: string[] = [];
  const settings: { temperature: number; topK: number }[] = [];
  const controls: SampleViewControls = {
    setSampling: (s) => settings.push(s),
    pause: () => {
      calls.push('pause');
      store.dispatch({ event: 'paused', paused: true, at: 2000 });
    },
    resume: () => {
      calls.push('resume');
      store.dispatch({ event: 'paused', paused: false, at: 5000 });
    },
    again: () => calls.push('again'),
    quit: (reason) => calls.push(`quit:${reason}`),
  };
  const r = render(<SampleView store={store} controls={controls} initialSampling={{ temperature: 1, topK: 0 }} prime={prime} length={500} info={INFO} size={size} />);
  return { store, calls, settings, r, frame: () => plain(r.lastFrame()), raw: () => r.lastFrame() ?? '' };
}

async function press(r: { stdin: { write(s: string): void } }, keys: string): Promise<void> {
  for (const k of keys) {
    r.stdin.write(k);
    await new Promise((res) => setTimeout(res, 5));
  }
}

const exited = (r: { stdin: { listenerCount(e: string): number } }): boolean => r.stdin.listenerCount('readable') === 0;

describe('sampling view', () => {
  it('streams text with a status line of temperature, top-k, seed, chars/s and progress', async () => {
    const { store, frame } = mount();
    store.dispatch({ event: 'start', seed: 1234, at: 1000 });
    for (let i = 0; i < 50; i++) store.dispatch({ event: 'text', text: 'ab'[i % 2], at: 1000 + (i + 1) * 10 });
    await vi.waitFor(() => expect(frame()).toContain('abab'));
    expect(frame()).toContain('charlm sample  run/latest.safetensors · LSTM 2×128 · step 3000');
    expect(frame()).toContain('backend webasm + wasm-gemm (2 threads)');
    // 50 symbols in 0.5 s.
    expect(frame()).toContain('● streaming  temperature 1.00 · top-k off · seed 1234 · 100 chars/s · 50/500');
    expect(frame()).toContain('ab▍');
    expect(frame()).toContain('+/- temperature  k top-k  space pause  n new sample  q quit');
    store.dispatch({ event: 'end', completed: true, at: 1600 });
    await vi.waitFor(() => expect(frame()).toContain('■ done (n: another)'));
  });

  it('shows the prime apart from the generated text', async () => {
    const { store, raw, frame } = mount('Call me');
    store.dispatch({ event: 'start', seed: 1, at: 0 });
    store.dispatch({ event: 'text', text: ' Ishmael', at: 10 });
    await vi.waitFor(() => expect(frame()).toContain('Call me Ishmael'));
    const line = raw().split('\n').find((l) => l.includes('Call me'))!;
    // The prime in its own colour (bright cyan, bold); the generated text in none.
    expect(line).toMatch(/\u001b\[96mCall me(\u001b\[(22|39)m)+ Ishmael/);
  });

  it('+, - and k change what is shown and are handed over at the key press', async () => {
    const { store, r, settings, frame } = mount();
    store.dispatch({ event: 'start', seed: 1, at: 0 });
    await press(r, '+');
    await vi.waitFor(() => expect(frame()).toContain('temperature 1.10'));
    await press(r, '---');
    await vi.waitFor(() => expect(frame()).toContain('temperature 0.80'));
    await press(r, 'kk');
    await vi.waitFor(() => expect(frame()).toContain('top-k 10'));
    expect(settings).toEqual([
      { temperature: 1.1, topK: 0 },
      { temperature: 1, topK: 0 },
      { temperature: 0.9, topK: 0 },
      { temperature: 0.8, topK: 0 },
      { temperature: 0.8, topK: 5 },
      { temperature: 0.8, topK: 10 },
    ]);
  });

  it('space pauses and resumes the stream; chars/s leaves out the pause', async () => {
    const { store, r, calls, frame } = mount();
    store.dispatch({ event: 'start', seed: 1, at: 0 });
    for (let i = 1; i <= 20; i++) store.dispatch({ event: 'text', text: 'x', at: i * 100 });
    await press(r, ' ');
    await vi.waitFor(() => expect(frame()).toContain('❚❚ paused  temperature'));
    await press(r, ' ');
    expect(calls).toEqual(['pause', 'resume']);
    store.dispatch({ event: 'text', text: 'y', at: 5100 });
    // 21 symbols in 2.0 s of generation (0–2.0 s, 5.0–5.1 s minus nothing): 10 chars/s, not 21/5.1.
    await vi.waitFor(() => expect(frame()).toContain('● streaming  temperature 1.00 · top-k off · seed 1 · 10 chars/s · 21/500'));
  });

  it('n asks for a new sample; q leaves; Ctrl-C leaves as an interrupt', async () => {
    const a = mount();
    a.store.dispatch({ event: 'start', seed: 1, at: 0 });
    await press(a.r, 'n');
    expect(a.calls).toEqual(['again']);
    await press(a.r, 'q');
    await vi.waitFor(() => expect(exited(a.r)).toBe(true));
    expect(a.calls).toEqual(['again', 'quit:quit']);
    const b = mount();
    await press(b.r, '\u0003');
    await vi.waitFor(() => expect(exited(b.r)).toBe(true));
    expect(b.calls).toEqual(['quit:interrupt']);
  });

  it('fits 80×24 however long the text, keeping its end in view', async () => {
    const { store, frame } = mount('The', { columns: 80, rows: 24 });
    store.dispatch({ event: 'start', seed: 1, at: 0 });
    store.dispatch({ event: 'text', text: `${'the whale and the sea '.repeat(300)}\nTHE END`, at: 10 });
    await vi.waitFor(() => expect(frame()).toContain('THE END'));
    const lines = frame().split('\n');
    expect(lines.length).toBeLessThanOrEqual(23);
    for (const l of lines) expect([...l].length).toBeLessThanOrEqual(80);
  });
});
