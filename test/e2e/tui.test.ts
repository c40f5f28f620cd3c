import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corpusFile, englishLike } from '../support/corpus.js';
import { HAS_TMUX, Terminal } from './tmux.js';

const TINY = '--hidden 16 --embed 8 --batch 4 --seq 16 --sample-every 10 --sample-length 120 --eval-every 25 --backend cpu';

if (!HAS_TMUX) {
  // Said once, where the run shows it, rather than as silently skipped tests.
  console.warn('test/e2e/tui.test.ts: skipped, tmux is not installed (CI installs it; apt-get install -y tmux).');
}

describe.skipIf(!HAS_TMUX)('charlm in a terminal (tmux, 100×30)', () => {
  let term: Terminal;
  let dir: string;

  beforeAll(() => {
    term = new Terminal();
    dir = corpusFile(englishLike(20_000)).dir;
  });
  afterAll(() => term?.close());

  it('train: header, progress, chart and a streamed sample; + raises the temperature shown; q saves latest and exits 0 within 5 s', async () => {
    const pane = term.open('train', dir, `CHARLM train corpus.txt ${TINY} --steps 100000 --out run`);
    const screen = await pane.until(
      (s) =>
        /charlm {2}corpus \(20\.0 kB\) · vocab \d+ · LSTM 2×16, embed 8/.test(s) &&
        /[\d,]+ params · seed 1 · backend cpu/.test(s) &&
        /▕█*░*▏ step [\d,]+\/100,000/.test(s) &&
        /elapsed \d+:\d\d · ETA [\d:]+ · [\d.k]+ chars\/s/.test(s) &&
        s.includes('loss nats/char') &&
        /\d\.\d\d┤/.test(s) &&
        /val loss +\d\.\d{4}/.test(s) &&
        /sample @ step \d+ · seed \d+ · temperature 0\.80 · top-k off/.test(s) &&
        // Some sampled text under the sample title.
        /sample @ step[^\n]*\n[^\n]*\S/.test(s),
      'the dashboard with a sample',
    );
    writeFileSync(join(dir, 'dashboard.txt'), screen);
    // The whole frame is on screen, header at the top and keys at the bottom: it fits 30 rows and nothing scrolled.
    const rows = screen.trimEnd().split('\n');
    expect(rows[0]).toMatch(/^charlm {2}corpus/);
    expect(rows.at(-1)).toMatch(/^\+\/- temperature {2}k top-k {2}r resample {2}p pause {2}s save {2}q quit {2}\? help/);

    pane.type('+');
    await pane.until((s) => s.includes('temperature 0.90'), 'the temperature to rise to 0.90', 5000);

    const t0 = Date.now();
    pane.type('q');
    const status = await pane.exitStatus(5000);
    const took = Date.now() - t0;
    expect(status, `q should end charlm within 5 s (waited ${took} ms); screen:\n${pane.screen()}`).toBe(0);
    expect(existsSync(join(dir, 'run', 'latest.safetensors'))).toBe(true);
    expect(pane.screen()).toMatch(/stopped at step [\d,]+; latest .*run\/latest\.safetensors/);
  });

  it('sample: streams text; + raises the temperature shown; q exits 0 within 5 s', async () => {
    const ckpt = join(dir, 'run', 'latest.safetensors');
    expect(existsSync(ckpt), 'the train test leaves a checkpoint').toBe(true);
    const pane = term.open('sample', dir, `CHARLM sample run/latest.safetensors --length 1000000 --prime 'The ' --backend cpu`);
    await pane.until(
      (s) => s.includes('charlm sample  run/latest.safetensors · LSTM 2×16') && /● streaming {2}temperature 1\.00 · top-k off · seed 1 · [\d.k]+ chars\/s/.test(s),
      'the sampling view streaming',
    );
    pane.type('+');
    await pane.until((s) => s.includes('temperature 1.10'), 'the temperature to rise to 1.10', 5000);
    pane.type('q');
    expect(await pane.exitStatus(5000), pane.screen()).toBe(0);
  });

  it('train: Ctrl-C saves latest and exits 130', async () => {
    const pane = term.open('interrupt', dir, `CHARLM train corpus.txt ${TINY} --steps 100000 --out run-int`);
    await pane.until((s) => /step [1-9][\d,]*\/100,000/.test(s), 'training to start');
    pane.press('C-c');
    expect(await pane.exitStatus(5000), pane.screen()).toBe(130);
    expect(existsSync(join(dir, 'run-int', 'latest.safetensors'))).toBe(true);
  });

  it('plain output without a terminal on both ends: `train … | cat` and `sample … </dev/null` exit 0 with no dashboard', async () => {
    mkdirSync(join(dir, 'plain'), { recursive: true });
    const train = term.open('piped', dir, `set -o pipefail\nCHARLM train corpus.txt ${TINY} --steps 30 --out plain/run | cat`);
    expect(await train.exitStatus(60_000), train.screen()).toBe(0);
    const trained = train.screen();
    expect(trained).toMatch(/step 30\/30 \| epoch/);
    expect(trained).toMatch(/done at step 30/);
    expect(trained).not.toContain('loss nats/char');

    const sample = term.open('nostdin', dir, `CHARLM sample plain/run/latest.safetensors --length 60 --prime 'The ' --backend cpu </dev/null`);
    expect(await sample.exitStatus(60_000), sample.screen()).toBe(0);
    const sampled = sample.screen();
    expect(sampled).toMatch(/^The /m);
    expect(sampled).not.toContain('charlm sample');
    expect(sampled).not.toContain('temperature');
  });
});
