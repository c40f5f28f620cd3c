import { appendFileSync, copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paramLayout } from '../../src/model/params.js';
import { charlm } from '../support/cli.js';
import { corpusFile, englishLike } from '../support/corpus.js';

// Accented letters make bits per byte differ from bits per character.
const TEXT = englishLike(8000, 4).replace(/sea/g, 'mer é');
const MODEL = { cell: 'gru', hidden: 16, embed: 8, layers: 1 } as const;
const TRAIN = [
  '--cell', MODEL.cell, '--layers', String(MODEL.layers), '--hidden', String(MODEL.hidden), '--embed', String(MODEL.embed),
  '--batch', '4', '--seq', '16', '--steps', '20', '--eval-every', '10', '--split', '80,10,10', '--backend', 'cpu', '--json',
];

let dir: string;
let corpus: string;
let checkpoint: string;
let evals: { step: number; valLoss: number; valBpc: number }[];
let done: { step: number; valLoss: number };

interface Metrics {
  loss: number;
  ppl: number;
  bpc: number;
  bitsPerByte: number;
  chars: number;
  split: string;
  backend: string;
}

async function evalJson(...args: string[]): Promise<Metrics> {
  const r = await charlm(['eval', checkpoint, ...args, '--backend', 'cpu', '--json']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const lines = r.stdout.trim().split('\n');
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0]) as Metrics;
}

/** Code points of each part under a train,val,test split, cut as src/data/split.ts cuts. */
function parts(text: string, train: number, val: number): { train: string[]; val: string[]; test: string[] } {
  const cps = [...text];
  const a = Math.floor((cps.length * train) / 100);
  const b = Math.floor((cps.length * (train + val)) / 100);
  return { train: cps.slice(0, a), val: cps.slice(a, b), test: cps.slice(b) };
}

beforeAll(async () => {
  ({ dir, path: corpus } = corpusFile(TEXT));
  const out = join(dir, 'run');
  const r = await charlm(['train', corpus, ...TRAIN, '--out', out]);
  expect(r.code, r.stderr).toBe(0);
  const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { event: string } & Record<string, number>);
  evals = events.filter((e) => e.event === 'eval') as unknown as typeof evals;
  done = events.find((e) => e.event === 'done') as unknown as typeof done;
  checkpoint = join(out, 'latest.safetensors');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('charlm eval', () => {
  it('reports loss, ppl, bpc, bitsPerByte and chars, consistent with one another', async () => {
    const m = await evalJson(corpus);
    expect(Object.keys(m).sort()).toEqual(['backend', 'bitsPerByte', 'bpc', 'chars', 'loss', 'ppl', 'split']);
    expect(m.split).toBe('all');
    const scored = [...TEXT].slice(1);
    expect(m.chars).toBe(scored.length);
    expect(m.ppl).toBeCloseTo(Math.exp(m.loss), 10);
    expect(m.bpc).toBeCloseTo(m.loss / Math.LN2, 10);
    const bytes = Buffer.byteLength(scored.join(''));
    expect(bytes).toBeGreaterThan(scored.length);
    expect(m.bitsPerByte).toBeCloseTo((m.loss * m.chars) / Math.LN2 / bytes, 10);
    expect(m.backend).toMatch(/^cpu/);
  });

  it("reproduces the training run's last validation loss on the checkpoint's own val split", async () => {
    const m = await evalJson();
    expect(Math.abs(m.loss - done.valLoss)).toBeLessThan(1e-6);
    expect(m.chars).toBe(parts(TEXT, 80, 10).val.length - 1);
    // Naming the corpus and the part gives the same numbers.
    const named = await evalJson(corpus, '--split', 'val');
    expect(named).toEqual(m);
  });

  it('scores the held-out test part of its own corpus with the stored percentages', async () => {
    const m = await evalJson('--split', 'test');
    expect(m.split).toBe('test');
    expect(m.chars).toBe(parts(TEXT, 80, 10).test.length - 1);
    expect(m.loss).toBeGreaterThan(0);
    // Another part than the one best was chosen on: not the validation numbers.
    expect(m.loss).not.toBe((await evalJson()).loss);
    // The same as scoring exactly that text cut out of the corpus by hand, with the run's window shape.
    const testText = join(dir, 'test-part.txt');
    writeFileSync(testText, parts(TEXT, 80, 10).test.join(''));
    const byHand = await evalJson(testText);
    expect(Math.abs(byHand.loss - m.loss)).toBeLessThan(1e-9);
    expect(byHand.chars).toBe(m.chars);
    const plain = await charlm(['eval', checkpoint, '--split', 'test', '--backend', 'cpu']);
    expect(plain.stdout).toMatch(new RegExp(`^corpus \\(test split, ${m.chars} characters scored\\): loss ${m.loss.toFixed(4)} nats/char`));
  });

  it('refuses --split test in one sentence when the run held out no test split', async () => {
    const out = join(dir, 'no-test');
    const replaced = ['--split', '--steps', '--eval-every'];
    const flags = TRAIN.filter((a, i) => !replaced.includes(a) && !replaced.includes(TRAIN[i - 1]));
    const r = await charlm(['train', corpus, ...flags, '--split', '90,10,0', '--steps', '2', '--eval-every', '2', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const file = join(out, 'best.safetensors');
    const refused = await charlm(['eval', file, '--split', 'test', '--backend', 'cpu']);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toBe(
      `charlm: ${file} was trained with --split 90,10,0, which held out no test split; score a whole other text instead (charlm eval ${file} <corpus>, without --split).\n`,
    );
  });

  it('prints one readable line of metrics without --json', async () => {
    const r = await charlm(['eval', checkpoint, corpus, '--backend', 'cpu']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/loss \d+\.\d{4} nats\/char \| ppl \d+\.\d{3} \| bpc \d+\.\d{4} \| bits\/byte \d+\.\d{4}/);
    expect(r.stdout).toMatch(/backend cpu/);
  });

  it('refuses text with a character outside the vocabulary, naming it and where it is', async () => {
    const other = join(dir, 'other.txt');
    writeFileSync(other, 'the sea\nthe Qship\n');
    const r = await charlm(['eval', checkpoint, other, '--backend', 'cpu']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^charlm: .*other\.txt has the character "Q" \(U\+0051\) at line 2, column 5, which is not among the \d+ symbols .* was trained on\.\n$/);
  });

  it('refuses to guess the validation split of a training corpus that has changed since', async () => {
    const backup = join(dir, 'corpus.bak');
    copyFileSync(corpus, backup);
    try {
      appendFileSync(corpus, 'the end.\n');
      const r = await charlm(['eval', checkpoint, '--backend', 'cpu']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^charlm: .*corpus\.txt has changed since .* was trained on it \(\d+ bytes then, \d+ now\).*pass the corpus/);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    } finally {
      copyFileSync(backup, corpus);
    }
  });
});

describe('charlm info', () => {
  it('prints config, parameter count, vocabulary, step and best val loss', async () => {
    const r = await charlm(['info', checkpoint]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const vocab = new Set(TEXT).size;
    const params = paramLayout({ ...MODEL, vocabSize: vocab, dropout: 0 }).total;
    const best = evals.reduce((a, b) => (b.valLoss < a.valLoss ? b : a));
    expect(r.stdout).toMatch(new RegExp(`^model +gru × 1 layers, hidden 16, embed 8`, 'm'));
    expect(r.stdout).toMatch(new RegExp(`^parameters +${params}$`, 'm'));
    expect(r.stdout).toMatch(new RegExp(`^vocabulary +${vocab} symbols$`, 'm'));
    expect(r.stdout).toMatch(/^training +batch 4 × seq 16, adam lr 0\.002/m);
    expect(r.stdout).toMatch(/^step +20 /m);
    expect(r.stdout).toMatch(new RegExp(`^best val +loss ${best.valLoss.toFixed(4)}, bpc ${best.valBpc.toFixed(4)} at step ${best.step} \\(chosen on the val split\\)$`, 'm'));
    expect(r.stdout).toMatch(new RegExp(`^evaluations +${evals.length}, `, 'm'));
    expect(r.stdout).toMatch(/^checkpoint +.*latest\.safetensors \(\d+ bytes, format version 1\)$/m);
  });

  it('prints the same facts, and the whole history, as one JSON object', async () => {
    const r = await charlm(['info', checkpoint, '--json']);
    expect(r.code).toBe(0);
    const info = JSON.parse(r.stdout) as Record<string, unknown>;
    const best = evals.reduce((a, b) => (b.valLoss < a.valLoss ? b : a));
    expect(info).toMatchObject({
      file: checkpoint,
      formatVersion: 1,
      model: { ...MODEL, dropout: 0 },
      vocabSize: new Set(TEXT).size,
      step: 20,
      optimizerSteps: 20,
      best: { step: best.step, valLoss: best.valLoss, valBpc: best.valBpc, chosenOn: 'val' },
      evals: evals.length,
      history: evals.map(({ step, valLoss, valBpc }) => ({ step, valLoss, valBpc })),
      training: { batch: 4, seq: 16, split: { train: 80, val: 10, test: 10 } },
      corpus: { name: 'corpus', source: corpus, bytes: Buffer.byteLength(TEXT) },
    });
    expect(info.fileBytes).toBeGreaterThan(0);
  });
});

describe('charlm info --history', () => {
  it("charts every step and evaluation from the run folder's history.jsonl", async () => {
    const r = await charlm(['info', checkpoint, '--history']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const best = evals.reduce((a, b) => (b.valLoss < a.valLoss ? b : a));
    expect(r.stdout).toMatch(/^train loss \(nats\/char\), 20 steps$/m);
    expect(r.stdout).toContain(`val loss (nats/char), ${evals.length} evaluations; ◆ best ${best.valLoss.toFixed(4)} at step ${best.step}`);
    expect(r.stdout).toMatch(/[\u2801-\u28ff]/);
    expect(r.stdout).toMatch(/^ +step 1 +step 20$/m);
    // best.safetensors finds the same history: it is the folder's.
    const viaBest = await charlm(['info', join(dirname(checkpoint), 'best.safetensors'), '--history']);
    expect(viaBest.stdout.slice(viaBest.stdout.indexOf('train loss'))).toBe(r.stdout.slice(r.stdout.indexOf('train loss')));
  });

  it('holds the same records as --json printed, and reads past a torn last line', async () => {
    const history = join(dirname(checkpoint), 'history.jsonl');
    const backup = readFileSync(history);
    try {
      appendFileSync(history, '{"event":"step","step":21,"lo');
      const r = await charlm(['info', checkpoint, '--history', '--json']);
      expect(r.code, r.stderr).toBe(0);
      const records = (JSON.parse(r.stdout) as { runHistory: { event: string; step: number; valLoss?: number }[] }).runHistory;
      expect(records.filter((x) => x.event === 'step').map((x) => x.step)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      expect(records.filter((x) => x.event === 'eval')).toEqual(evals.map((e) => expect.objectContaining({ step: e.step, valLoss: e.valLoss })));
    } finally {
      writeFileSync(history, backup);
    }
  });
});

describe('charlm corpora', () => {
  it('lists moby-dick with its size, npm package and install folder', async () => {
    const plain = await charlm(['corpora']);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(/^moby-dick +\d+ bytes/m);
    const r = await charlm(['corpora', '--json']);
    expect(r.code).toBe(0);
    const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const moby = rows.find((c) => c.name === 'moby-dick');
    expect(moby).toMatchObject({ source: expect.stringMatching(/^@stdlib\/datasets-moby-dick@\d/), location: expect.stringContaining('datasets-moby-dick') });
    expect(moby!.bytes as number).toBeGreaterThan(1_000_000);
  });
});
