import { cleanup, render } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunPlan } from '../../src/train/compare.js';
import { CompareView, createCompareStore } from '../../src/ui/compare-view.js';

afterEach(() => cleanup());

const plan = (id: string, index: number, cell: 'lstm' | 'gru', seed: number): RunPlan => ({
  id,
  index,
  cell,
  tokenizer: 'char',
  seed,
  model: { cell, vocabSize: 30, embed: 8, hidden: cell === 'lstm' ? 16 : 18, layers: 1, dropout: 0 },
  params: 5000,
  paramsOff: 0,
  unseen: null,
});

const plain = (s: string | undefined): string => (s ?? '').replace(/\u001b\[[0-9;]*m/g, '');

describe('compare dashboard', () => {
  it('overlays curves with a legend, fills the table as runs finish, shows the run in progress, and leaves after the report', async () => {
    const store = createCompareStore(0);
    const stops: string[] = [];
    const r = render(<CompareView store={store} onStop={(why) => stops.push(why)} size={{ columns: 100, rows: 30 }} />);
    const plans = [plan('lstm-char-s1', 0, 'lstm', 1), plan('gru-char-s1', 1, 'gru', 1)];
    store.dispatch({ event: 'compare-start', corpus: 'tiny', corpusBytes: 100, backend: 'cpu', match: 'params', outDir: '/tmp/x', runs: plans });
    store.dispatch({ event: 'run-start', run: 'lstm-char-s1', index: 0, total: 2, cell: 'lstm', tokenizer: 'char', seed: 1, hidden: 16, params: 5000, vocabSize: 30, unseenTokens: null, totalSteps: 20, outDir: '/tmp/x/lstm-char-s1' });
    for (const step of [10, 20]) {
      store.dispatch({ event: 'step', run: 'lstm-char-s1', step, epoch: 0, loss: 3, lr: 0.002, gradNorm: 1, charsPerSec: 5000, elapsedMs: step * 100 });
      store.dispatch({ event: 'eval', run: 'lstm-char-s1', step, valLoss: 3 - step / 20, valPpl: 1, valBpc: 4 - step / 20, valBitsPerByte: 4 - step / 20, best: true });
    }
    await new Promise((res) => setTimeout(res, 20));
    let f = plain(r.lastFrame());
    expect(f).toContain('charlm compare');
    expect(f).toMatch(/━ lstm \(h16\) +━ gru \(h18\)/);
    expect(f).toMatch(/lstm-char-s1 +5,000 +running/);
    expect(f).toMatch(/gru-char-s1 +5,000 +waiting/);
    expect(f).toMatch(/▶ run 1\/2 lstm-char-s1/);
    expect(f).toMatch(/step 20\/20/);
    expect(f).toMatch(/[⠀-⣿]/);
    store.dispatch({
      event: 'run-done', run: 'lstm-char-s1', cell: 'lstm', tokenizer: 'char', seed: 1, hidden: 16, params: 5000, vocabSize: 30, unseenTokens: null, steps: 20, bestStep: 20,
      valLoss: 2, valPpl: 7.39, valBpc: 2.885, valBitsPerByte: 2.885, pplPerBpeToken: null, charsPerSec: 5000, trainMs: 1500, wallMs: 2000, peakRssMb: 12, workingSetMb: 0.5, best: '/tmp/x/best', stopped: false, error: null, curve: [],
    });
    await new Promise((res) => setTimeout(res, 20));
    f = plain(r.lastFrame());
    expect(f).toMatch(/lstm-char-s1 +5,000 +2\.8850 +2\.8850 +5\.0k +0:02/);
    r.stdin.write('q');
    await new Promise((res) => setTimeout(res, 20));
    expect(stops).toEqual(['quit']);
    store.dispatch({ event: 'stopping' });
    store.dispatch({ event: 'report', rows: [], out: '/tmp/x' });
    await new Promise((res) => setTimeout(res, 20));
    expect(plain(r.lastFrame())).toContain('report in /tmp/x');
  });
});
