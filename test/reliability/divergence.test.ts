import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeCheckpoint, encodeCheckpoint, loadCheckpoint } from '../../src/checkpoint/run-checkpoint.js';
import { parseProgress } from '../../src/train/progress.js';
import { charlm } from '../support/cli.js';
import { corpusFile, englishLike } from '../support/corpus.js';
import { events, oneSentence, TINY } from './run.js';

let dir: string;
let corpus: string;

beforeAll(() => {
  ({ dir, path: corpus } = corpusFile(englishLike(6000)));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Every checkpoint in the folder loads (loading refuses NaN and ∞ weights) and was saved at `step`. */
async function checkpointsAt(out: string, step: number): Promise<string[]> {
  const names = existsSync(out) ? readdirSync(out).filter((n) => n.endsWith('.safetensors')).sort() : [];
  for (const name of names) {
    const file = join(out, name);
    const c = await loadCheckpoint(file);
    expect(c.params.every(Number.isFinite)).toBe(true);
    expect(parseProgress(c.progress, file).step).toBe(step);
  }
  return names;
}

/**
 * What the issue's `--lr 1e6` does on a 695-parameter LSTM (vocabulary 19):
 * step 1 is finite and applied, and throws the weights about 1e6 away (Adam's
 * step is about lr whatever the gradient; SGD's gradient is clipped to norm 5,
 * so its step is up to 5e6). Nothing overflows float32: the loss of step 2 is
 * about 2e6 nats for Adam and 2e5 for SGD, finite. The run stops on the
 * exploding loss, 1000 times a uniform guess's (ln 19 ≈ 2.9 nats).
 */
describe('a diverging run', () => {
  it.concurrent.each([
    ['Adam --lr 1e6', ['--lr', '1e6']],
    ['SGD --lr 1e6', ['--lr', '1e6', '--optimizer', 'sgd']],
  ])('%s: stops at step 2 on the exploding loss after --max-nonfinite skipped steps; the checkpoints of step 1 stay', async (_, lr) => {
    const out = join(dir, lr.join('').replace(/\W/g, ''));
    const r = await charlm(['train', corpus, ...TINY, ...lr, '--steps', '50', '--eval-every', '1', '--max-nonfinite', '3', '--out', out]);
    expect(r.code).toBe(1);
    expect(oneSentence(r.stderr)).toMatch(
      /^charlm: Training diverged at step 2: the loss exceeded 1000 times a uniform guess's \([\d.]+e\+\d+ nats per token\) for 3 steps in a row \(none was applied\); try a lower --lr than 1000000\.$/,
    );
    expect(events(r.stdout).filter((e) => e.event === 'step').map((e) => e.step)).toEqual([1]);
    expect(await checkpointsAt(out, 1)).toEqual(['best.safetensors', 'latest.safetensors']);
  });

  it.concurrent('--lr 1e39 overflows float32 in the update of step 1: not applied, stops, writes nothing', async () => {
    const out = join(dir, 'overflow');
    const r = await charlm(['train', corpus, ...TINY, '--lr', '1e39', '--steps', '50', '--eval-every', '1', '--max-nonfinite', '1', '--out', out]);
    expect(r.code).toBe(1);
    expect(oneSentence(r.stderr)).toBe(
      'charlm: Training diverged at step 1: the update would have made weights infinite once (the step was not applied); try a lower --lr than 1e+39.',
    );
    expect(events(r.stdout).map((e) => e.event)).toEqual(['start']);
    // The run folder it created held nothing, and is gone.
    expect(await checkpointsAt(out, 0)).toEqual([]);
  });

  it.concurrent('a NaN loss (weights near float32 max, resumed) is skipped; the default of 5 is overridden on resume; nothing is written', async () => {
    const base = join(dir, 'base');
    const first = await charlm(['train', corpus, ...TINY, '--steps', '2', '--eval-every', '2', '--out', base]);
    expect(first.code, first.stderr).toBe(0);
    const c = decodeCheckpoint(readFileSync(join(base, 'latest.safetensors')), 'base');
    const poisoned = join(dir, 'poisoned');
    mkdirSync(poisoned);
    const file = join(poisoned, 'latest.safetensors');
    // Finite, so it loads; any product of two of them is ∞, and the loss becomes NaN.
    const bytes = encodeCheckpoint({ ...c, params: c.params.map((x) => (x < 0 ? -3e38 : 3e38)) });
    writeFileSync(file, bytes);

    const r = await charlm(['train', corpus, '--resume', file, '--steps', '10', '--max-nonfinite', '2', '--json']);
    expect(r.code).toBe(1);
    expect(oneSentence(r.stderr)).toBe(
      'charlm: Training diverged at step 3: the loss or gradient was NaN or infinite for 2 steps in a row (none was applied); try a new run with a lower --lr than 0.002.',
    );
    expect(events(r.stdout).map((e) => e.event)).toEqual(['start']);
    expect(readdirSync(poisoned)).toEqual(['latest.safetensors']);
    expect(readFileSync(file).equals(bytes)).toBe(true);
  });
});
