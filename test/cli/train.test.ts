import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadForUse } from '../../src/cli/checkpoint-model.js';
import { CHARLM, charlm } from '../support/cli.js';
import { corpusFile, englishLike } from '../support/corpus.js';

const SMALL = ['--hidden', '24', '--embed', '8', '--batch', '4', '--seq', '16', '--eval-every', '10', '--dropout', '0.2', '--backend', 'cpu', '--json'];

type Event = Record<string, unknown> & { event: string };
const events = (stdout: string): Event[] => stdout.trim().split('\n').map((l) => JSON.parse(l) as Event);

describe('charlm train', () => {
  let corpus: { dir: string; path: string };
  beforeAll(() => {
    corpus = corpusFile(englishLike(6000));
  });

  it('emits start, step, eval, checkpoint events and ends with a done line naming latest and best', async () => {
    const out = join(corpus.dir, 'run-events');
    const r = await charlm(['train', corpus.path, ...SMALL, '--steps', '20', '--out', out, '--sample-every', '10', '--sample-length', '30']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const ev = events(r.stdout);
    expect(ev[0]).toMatchObject({ event: 'start', corpus: 'corpus', batch: 4, seq: 16, totalSteps: 20 });
    expect(String(ev[0].backend)).toMatch(/^cpu/);
    expect(ev.filter((e) => e.event === 'step').map((e) => e.step)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(ev.filter((e) => e.event === 'eval').map((e) => e.step)).toEqual([10, 20]);
    const samples = ev.filter((e) => e.event === 'sample');
    expect(samples.map((e) => [...String(e.text)].length)).toEqual([30, 30]);
    const done = ev[ev.length - 1];
    expect(done).toMatchObject({ event: 'done', step: 20, checkpoint: join(out, 'latest.safetensors'), best: join(out, 'best.safetensors') });
    const lastEval = ev.filter((e) => e.event === 'eval').pop()!;
    expect(done.valLoss).toBe(lastEval.valLoss);
    expect(done.valBpc).toBeCloseTo((done.valLoss as number) / Math.LN2, 12);
    expect(done.valPpl).toBeCloseTo(Math.exp(done.valLoss as number), 10);
    expect(existsSync(join(out, 'latest.safetensors')) && existsSync(join(out, 'best.safetensors'))).toBe(true);
  });

  it('learns: validation loss falls well below the uniform baseline', async () => {
    const r = await charlm(['train', corpus.path, ...SMALL, '--sample-every', '0', '--steps', '60', '--out', join(corpus.dir, 'run-learn'), '--lr', '0.01']);
    const ev = events(r.stdout);
    const vocab = ev[0].vocabSize as number;
    const done = ev[ev.length - 1];
    expect(done.valLoss as number).toBeLessThan(0.8 * Math.log(vocab));
  });

  it('20 steps straight and 10 + 10 resumed end on the same validation loss', async () => {
    const straight = events((await charlm(['train', corpus.path, ...SMALL, '--steps', '20', '--out', join(corpus.dir, 'run-a')])).stdout).pop()!;
    const half = join(corpus.dir, 'run-b');
    await charlm(['train', corpus.path, ...SMALL, '--steps', '10', '--out', half]);
    const resumed = await charlm(['train', corpus.path, ...SMALL, '--steps', '20', '--resume', join(half, 'latest.safetensors')]);
    const ev = events(resumed.stdout);
    expect(ev[0]).toMatchObject({ event: 'start', step: 10, resumedFrom: join(half, 'latest.safetensors') });
    const done = ev[ev.length - 1];
    expect(done.step).toBe(20);
    expect(Math.abs((done.valLoss as number) - (straight.valLoss as number))).toBeLessThan(1e-5);
  });

  it('Ctrl-C saves latest and exits 130', async () => {
    const out = join(corpus.dir, 'run-int');
    const child = spawn(process.execPath, [CHARLM, 'train', corpus.path, ...SMALL, '--steps', '100000', '--out', out], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let sent = false;
    const code = await new Promise<number | null>((resolve) => {
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        if (!sent && stdout.includes('"step":3,')) {
          sent = true;
          child.kill('SIGINT');
        }
      });
      child.on('close', resolve);
    });
    expect(code).toBe(130);
    const done = events(stdout).pop()!;
    expect(done).toMatchObject({ event: 'done', stopped: true, checkpoint: join(out, 'latest.safetensors') });
    expect(existsSync(join(out, 'latest.safetensors'))).toBe(true);
  });

  it('refuses to start a new run in a folder that already holds one', async () => {
    const out = join(corpus.dir, 'run-twice');
    expect((await charlm(['train', corpus.path, ...SMALL, '--steps', '2', '--out', out])).code).toBe(0);
    const r = await charlm(['train', corpus.path, ...SMALL, '--steps', '5', '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/already holds a run.*--resume/);
  });
});

/** A model small enough that the corpus, not the model, decides how long these runs take. */
const TINY_MODEL = ['--hidden', '8', '--embed', '4', '--layers', '1', '--sample-every', '0', '--backend', 'cpu'];

describe('charlm train on a corpus too small for --batch × --seq', () => {
  let corpus: { dir: string; path: string };
  beforeAll(() => {
    corpus = corpusFile(englishLike(3000));
  });

  it('trains a 3 KB corpus at the default 32 × 64 with fewer streams, and says so on stderr', async () => {
    expect(readFileSync(corpus.path).length).toBeGreaterThanOrEqual(3000);
    expect(readFileSync(corpus.path).length).toBeLessThan(3100);
    const r = await charlm(['train', corpus.path, ...TINY_MODEL, '--steps', '2', '--eval-every', '2', '--out', join(corpus.dir, 'small-plain')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(
      /^charlm: Small corpus: the training split \(2,7\d\d characters\) gives 1 window per stream at --batch 32 --seq 64, fewer than 20, so this run uses --batch 2 --seq 64 \(2\d windows per stream\); --strict refuses instead\.\n$/,
    );
    expect(r.stdout).toMatch(/batch 2 × seq 64/);
    expect(r.stdout).toMatch(/^done at step 2/m);
  });

  it('with --json tells it in the start event, and stores the chosen shape for --resume', async () => {
    const out = join(corpus.dir, 'small-json');
    const r = await charlm(['train', corpus.path, ...TINY_MODEL, '--steps', '2', '--eval-every', '2', '--json', '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const start = events(r.stdout)[0];
    expect(start).toMatchObject({ event: 'start', batch: 2, seq: 64, smallCorpus: { requested: { batch: 32, seq: 64 }, chosen: { batch: 2, seq: 64 } } });
    expect((start.smallCorpus as { note: string }).note).toMatch(/^Small corpus: /);
    expect((await loadForUse(join(out, 'latest.safetensors'))).training).toMatchObject({ batch: 2, seq: 64 });
  });

  it('scores a validation split shorter than one window along fewer streams, and eval repeats that loss', async () => {
    const mid = corpusFile(englishLike(20000));
    const out = join(mid.dir, 'short-val');
    // 1% of 20,000 characters is 200, shorter than one window of 4 × 64: 199 scored positions give 3 streams of 64.
    const r = await charlm(['train', mid.path, ...TINY_MODEL, '--batch', '4', '--seq', '64', '--split', '98,1,1', '--steps', '2', '--eval-every', '2', '--json', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const ev = events(r.stdout);
    expect(ev[0]).toMatchObject({ batch: 4, seq: 64, smallCorpus: { chosen: { batch: 4, seq: 64 }, valStreams: 3 } });
    const done = ev[ev.length - 1];
    const e = await charlm(['eval', join(out, 'latest.safetensors'), '--backend', 'cpu', '--json']);
    expect(e.code, e.stderr).toBe(0);
    expect((JSON.parse(e.stdout) as { loss: number }).loss).toBe(done.valLoss);
  });

  it('with --strict refuses in one sentence and writes nothing', async () => {
    const out = join(corpus.dir, 'small-strict');
    const r = await charlm(['train', corpus.path, ...TINY_MODEL, '--steps', '2', '--strict', '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(
      /^charlm: The training split has 2,7\d\d characters, which gives 1 window per stream at --batch 32 --seq 64 where 20 are needed; choose a smaller --batch or --seq \(without --strict charlm would use --batch 2 --seq 64\)\.\n$/,
    );
    expect(existsSync(out)).toBe(false);
  });
});

describe('charlm train --keep-last, --keep-best and the run history', () => {
  const RUN = [...SMALL.filter((a, i) => a !== '--eval-every' && SMALL[i - 1] !== '--eval-every'), '--eval-every', '1', '--sample-every', '0'];
  let corpus: { dir: string; path: string };
  beforeAll(() => {
    corpus = corpusFile(englishLike(6000));
  });

  it('after 10 saves with --keep-last 2 --keep-best 1 holds exactly 3 checkpoints, each loading at its step', async () => {
    const out = join(corpus.dir, 'keep');
    const r = await charlm(['train', corpus.path, ...RUN, '--steps', '10', '--keep-last', '2', '--keep-best', '1', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const ev = events(r.stdout);
    expect(ev.filter((e) => e.event === 'checkpoint' && e.kind === 'latest')).toHaveLength(10);
    const bestStep = ev.filter((e) => e.event === 'eval' && e.best).pop()!.step;
    const checkpoints = readdirSync(out).filter((n) => n.endsWith('.safetensors')).sort();
    expect(checkpoints).toEqual(['best.safetensors', 'latest.safetensors', 'step-000009.safetensors']);
    const steps = await Promise.all(checkpoints.map(async (n) => (await loadForUse(join(out, n))).progress.step));
    expect(steps).toEqual([bestStep, 10, 9]);
  });

  it('writes every step and evaluation to history.jsonl, and --resume continues the same file', async () => {
    const out = join(corpus.dir, 'history');
    expect((await charlm(['train', corpus.path, ...RUN, '--steps', '4', '--out', out])).code).toBe(0);
    const resumed = await charlm(['train', corpus.path, ...RUN, '--steps', '6', '--resume', join(out, 'latest.safetensors')]);
    expect(resumed.code, resumed.stderr).toBe(0);
    const lines = readFileSync(join(out, 'history.jsonl'), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Event);
    expect(lines.map((e) => `${e.event} ${e.step}`)).toEqual([1, 2, 3, 4, 5, 6].flatMap((s) => [`step ${s}`, `eval ${s}`]));
    // The lines are the --json events themselves.
    const fromJson = events(resumed.stdout).filter((e) => e.event === 'eval');
    expect(lines.filter((e) => e.event === 'eval').slice(4)).toEqual(fromJson);
  });
});
