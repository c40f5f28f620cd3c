import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { splitIds } from '../../src/data/split.js';
import { charlm } from '../support/cli.js';
import { corpusFile, englishLike } from '../support/corpus.js';
import { start, without } from '../reliability/run.js';

const TINY = ['--hidden', '16', '--embed', '8', '--batch', '4', '--seq', '16', '--steps', '20', '--eval-every', '5', '--backend', 'cpu', '--json'];

type Event = Record<string, unknown> & { event: string };
type Row = Record<string, unknown> & { cell: string; tokenizer: string; params: number; best: boolean };
const events = (stdout: string): Event[] => stdout.trim().split('\n').map((l) => JSON.parse(l) as Event);

describe('charlm compare', () => {
  let corpus: { dir: string; path: string };
  const text = englishLike(6000);
  let threeCells: { ev: Event[]; out: string };
  beforeAll(async () => {
    corpus = corpusFile(text);
    const out = join(corpus.dir, 'cells');
    const r = await charlm(['compare', corpus.path, '--cells', 'lstm,gru,rnn', '--seeds', '2', '--out', out, ...TINY]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    threeCells = { ev: events(r.stdout), out };
  });

  it('runs every cell for every seed in order and ends with a report line of one row per cell', () => {
    const { ev, out } = threeCells;
    expect(ev[0].event).toBe('compare-start');
    expect(ev.filter((e) => e.event === 'run-start').map((e) => e.run)).toEqual(['lstm-char-s1', 'gru-char-s1', 'rnn-char-s1', 'lstm-char-s2', 'gru-char-s2', 'rnn-char-s2']);
    // Progress and evaluation lines say which run they belong to.
    expect(ev.filter((e) => e.event === 'step' || e.event === 'eval').every((e) => typeof e.run === 'string')).toBe(true);
    expect(ev.filter((e) => e.event === 'eval' && e.run === 'gru-char-s2').map((e) => e.step)).toEqual([5, 10, 15, 20]);
    const report = ev[ev.length - 1];
    expect(report).toMatchObject({ event: 'report', out });
    const rows = report.rows as Row[];
    expect(rows.map((r) => r.cell)).toEqual(['lstm', 'gru', 'rnn']);
    expect(rows.filter((r) => r.best)).toHaveLength(1);
    for (const f of ['report.md', 'report.json', 'report.svg']) expect(existsSync(join(out, f))).toBe(true);
    for (const run of ['lstm-char-s1', 'rnn-char-s2']) expect(existsSync(join(out, run, 'best.safetensors'))).toBe(true);
  });

  it('with two seeds reports a mean and a non-zero sd, and report.md shows mean ± sd', () => {
    const rows = threeCells.ev[threeCells.ev.length - 1].rows as Row[];
    for (const r of rows) {
      expect(r.seeds).toBe(2);
      expect(r.meanValBpc as number).toBeGreaterThan(0);
      expect(r.sdValBpc as number).toBeGreaterThan(0);
    }
    const md = readFileSync(join(threeCells.out, 'report.md'), 'utf8');
    expect(md).toMatch(/\| ★ \| \*\*\w+\*\* \| char \|/);
    expect(md).toMatch(/\d\.\d{4} ± \d\.\d{4}/);
    const json = JSON.parse(readFileSync(join(threeCells.out, 'report.json'), 'utf8')) as { runs: { curve: unknown[] }[]; rows: unknown[] };
    expect(json.rows).toEqual(rows);
    expect(json.runs.every((r) => r.curve.length === 4)).toBe(true);
  });

  it('reports memory and time to target per row and run, opens report.md with the verdict and draws the target', () => {
    const { ev, out } = threeCells;
    const report = ev[ev.length - 1];
    const target = report.targetBpc as number;
    expect(target).toBeGreaterThan(0);
    const json = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { target: { bpc: number; requested: boolean }; runs: Record<string, unknown>[] };
    expect(json.target).toEqual({ bpc: target, requested: false });
    const runs = json.runs;
    for (const run of runs) {
      // A run can fit in memory the process already holds: its increase is then 0, never negative.
      expect(run.peakRssMb as number).toBeGreaterThanOrEqual(0);
      expect(run.workingSetMb as number).toBeGreaterThan(0);
      expect(run.trainMs as number).toBeGreaterThan(0);
      expect(run.wallMs as number).toBeGreaterThan(run.trainMs as number);
      // The default target is the worst run's best, so every run reaches it.
      expect(run.stepsToTarget as number).toBeGreaterThan(0);
      expect(run.secondsToTarget as number).toBeGreaterThan(0);
      expect(run.stepsToTarget as number).toBeLessThanOrEqual(20);
    }
    // The first run of the process carries the one-time allocations, so some increase shows.
    expect(runs.reduce((a, r) => a + (r.peakRssMb as number), 0)).toBeGreaterThan(0);
    const lstm = runs.filter((r) => r.cell === 'lstm').map((r) => r.workingSetMb);
    expect(lstm[0]).toBe(lstm[1]);
    for (const r of report.rows as Row[]) {
      expect(r.reachedTarget).toBe(2);
      for (const k of ['meanPeakRssMb', 'sdPeakRssMb', 'meanStepsToTarget', 'sdStepsToTarget', 'meanSecondsToTarget', 'sdSecondsToTarget', 'sdWorkingSetMb']) {
        expect(r[k] as number, k).toBeGreaterThanOrEqual(0);
      }
      expect(r.meanWorkingSetMb as number).toBeGreaterThan(0);
      expect(r.meanSecondsToTarget as number).toBeGreaterThan(0);
    }
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    const [title, blank, verdict] = md.split('\n');
    expect([title, blank]).toEqual(['# charlm compare: corpus', '']);
    expect(verdict).toMatch(/^Verdict: Best on quality: \*\*(lstm|gru|rnn)\*\* at \d\.\d{4} validation bits per byte/);
    expect(verdict).toMatch(/within one sd|Welch t = /);
    expect(verdict).toMatch(/(Fastest|Speed): .* (Least memory|Memory): .* First to the target of \d\.\d{4} bits per character \(the worst run's best\)/);
    expect(md).toContain('| peak RSS (MB) | working set (MB) | steps to target | training seconds to target | training time (s) | wall time (s) |');
    const svg = readFileSync(join(out, 'report.svg'), 'utf8');
    expect(svg).toContain(`target ${target.toFixed(3)}`);
    expect(svg).toMatch(/<line [^>]*stroke-dasharray="6 4"\/>/);
  });

  it('with --match hidden every cell gets --hidden', async () => {
    const r = await charlm(['compare', corpus.path, '--cells', 'lstm,rnn', '--match', 'hidden', '--out', join(corpus.dir, 'hidden'), ...TINY.slice(0, 8), '--steps', '2', '--eval-every', '2', '--backend', 'cpu', '--json']);
    expect(r.code).toBe(0);
    const rows = events(r.stdout).pop()!.rows as Row[];
    expect(rows.map((x) => x.hidden)).toEqual([16, 16]);
    expect(rows[1].params).toBeLessThan(rows[0].params);
  });

  it('with a --target-bpc no run reaches says "not reached" and gives null', async () => {
    const out = join(corpus.dir, 'unreached');
    const r = await charlm(['compare', corpus.path, '--cells', 'lstm,gru', '--target-bpc', '0.01', '--out', out, ...TINY.slice(0, 8), '--steps', '4', '--eval-every', '2', '--backend', 'cpu', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const report = events(r.stdout).pop()!;
    expect(report.targetBpc).toBe(0.01);
    for (const row of report.rows as Row[]) expect([row.meanStepsToTarget, row.meanSecondsToTarget, row.reachedTarget]).toEqual([null, null, 0]);
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    expect(md).toContain('| not reached | not reached |');
    expect(md).toMatch(/No configuration reached the target of 0\.0100 bits per character on every seed\./);
  });

  it('with one seed has no sd anywhere, and puts char and tiktoken runs on one bits-per-byte scale', async () => {
    const out = join(corpus.dir, 'tokens');
    const r = await charlm(['compare', corpus.path, '--cells', 'lstm', '--tokenizers', 'char,tiktoken:gpt2', '--out', out, ...TINY]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const ev = events(r.stdout);
    const rows = ev[ev.length - 1].rows as Row[];
    expect(rows.map((x) => x.tokenizer)).toEqual(['char', 'tiktoken:gpt2']);
    for (const row of rows) expect(Object.keys(row).filter((k) => k.startsWith('sd'))).toEqual([]);
    // Time to target is on bits per character of the text, so a BPE row has it too; the verdict names the tokenizer.
    for (const row of rows) {
      expect(row.meanStepsToTarget as number).toBeGreaterThan(0);
      expect(row.meanWorkingSetMb as number).toBeGreaterThan(0);
      expect(row.meanPeakRssMb as number).toBeGreaterThanOrEqual(0);
    }
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    expect(md).not.toContain('±');
    expect(md).toMatch(/^# charlm compare: corpus\n\nVerdict: Best on quality: \*\*lstm \((char|tiktoken:gpt2)\)\*\*/);
    expect(md).toContain('from one seed, whose spread is unknown');

    // By hand: bits per byte is total bits over the UTF-8 bytes of the scored validation text (every token but the first).
    const done = ev.filter((e) => e.event === 'run-done');
    const char = done.find((e) => e.tokenizer === 'char')!;
    expect(char.valBitsPerByte as number).toBeCloseTo(char.valBpc as number, 10); // ASCII: a byte per character
    const tiktoken = createRequire(import.meta.url)('tiktoken') as typeof import('tiktoken');
    const enc = tiktoken.get_encoding('gpt2');
    const raw = Int32Array.from(enc.encode_ordinary(text));
    const val = splitIds(raw, { train: 90, val: 5, test: 5 }).val;
    const scoredBytes = [...val.subarray(1)].reduce((a, id) => a + enc.decode_single_token_bytes(id).length, 0);
    enc.free();
    const gpt2 = done.find((e) => e.tokenizer === 'tiktoken:gpt2')!;
    const totalBits = ((gpt2.valLoss as number) * (val.length - 1)) / Math.LN2;
    // The reserved id's byte size is a mean over unseen tokens, so allow for the few of those.
    expect(gpt2.valBitsPerByte as number).toBeCloseTo(totalBits / scoredBytes, 2);
    expect(gpt2.valBitsPerByte as number).toBeLessThan(gpt2.valBpc as number);
  });

  it('refuses an unknown cell or tokenizer with one sentence naming the flag', async () => {
    const a = await charlm(['compare', corpus.path, '--cells', 'lstm,tcn']);
    expect(a.code).toBe(1);
    expect(a.stderr).toMatch(/--cells takes lstm, gru, rnn/);
    const b = await charlm(['compare', corpus.path, '--tokenizers', 'char,tiktoken:p50k']);
    expect(b.code).toBe(1);
    expect(b.stderr).toMatch(/--tokenizers: .*tiktoken:<encoding>/);
    const c = await charlm(['compare', corpus.path, '--target-bpc', '-1']);
    expect(c.code).toBe(1);
    expect(c.stderr).toMatch(/--target-bpc must be a number greater than 0 \(got -1\)\./);
  });

  it('report.svg renders in a real renderer (rsvg-convert) with three distinct line colours', () => {
    const png = execFileSync('rsvg-convert', ['--format', 'png', join(threeCells.out, 'report.svg')]);
    const { width, height, pixels } = decodePng(png);
    expect(width).toBeGreaterThan(800);
    let ink = 0;
    const colours = new Map<string, number>();
    for (let i = 0; i < width * height; i++) {
      const [r, g, b] = [pixels[i * 4], pixels[i * 4 + 1], pixels[i * 4 + 2]];
      if (r + g + b < 740) ink++;
      colours.set(`${r},${g},${b}`, (colours.get(`${r},${g},${b}`) ?? 0) + 1);
    }
    expect(ink / (width * height)).toBeGreaterThan(0.01);
    // The first three palette colours (lstm, gru, rnn) each fill many pixels exactly, where their lines are drawn solid.
    for (const hex of ['#1f77b4', '#d62728', '#2ca02c']) {
      const rgb = [1, 3, 5].map((k) => parseInt(hex.slice(k, k + 2), 16)).join(',');
      expect(colours.get(rgb) ?? 0, hex).toBeGreaterThan(100);
    }
  });
});

/** Decodes an 8-bit RGB or RGBA, non-interlaced PNG (what rsvg-convert writes) to RGBA pixels. */
function decodePng(buf: Buffer): { width: number; height: number; pixels: Uint8Array } {
  expect(buf.subarray(1, 4).toString('latin1')).toBe('PNG');
  let at = 8;
  let width = 0;
  let height = 0;
  let channels = 4;
  const idat: Buffer[] = [];
  while (at < buf.length) {
    const length = buf.readUInt32BE(at);
    const type = buf.subarray(at + 4, at + 8).toString('latin1');
    const data = buf.subarray(at + 8, at + 8 + length);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      expect(data[8]).toBe(8);
      expect(data[12]).toBe(0);
      channels = data[9] === 6 ? 4 : data[9] === 2 ? 3 : 0;
      expect(channels).toBeGreaterThan(0);
    } else if (type === 'IDAT') idat.push(data);
    at += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const out = new Uint8Array(width * height * 4);
  let prev = new Uint8Array(stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = Uint8Array.from(raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1)));
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? line[x - channels] : 0;
      const b = prev[x];
      const c = x >= channels ? prev[x - channels] : 0;
      const p = a + b - c;
      const pred = filter === 1 ? a : filter === 2 ? b : filter === 3 ? (a + b) >> 1 : filter === 4 ? (Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c) ? a : Math.abs(p - b) <= Math.abs(p - c) ? b : c) : 0;
      line[x] = (line[x] + pred) & 0xff;
    }
    for (let x = 0; x < width; x++) {
      for (let k = 0; k < 3; k++) out[(y * width + x) * 4 + k] = line[x * channels + k];
      out[(y * width + x) * 4 + 3] = channels === 4 ? line[x * channels + 3] : 255;
    }
    prev = line;
  }
  return { width, height, pixels: out };
}

describe('charlm compare stopped by a signal', () => {
  it('SIGTERM stops the runs like Ctrl-C, writes the report of what ran and exits 143', async () => {
    const { dir, path } = corpusFile(englishLike(6000));
    const out = join(dir, 'stopped');
    const run = start(['compare', path, '--cells', 'lstm,gru', '--out', out, ...without(TINY, '--steps'), '--steps', '100000']);
    await run.until((e) => e.event === 'step' && (e.step as number) >= 2);
    run.child.kill('SIGTERM');
    expect(await run.exit, run.stderr()).toBe(143);
    const report = run.events[run.events.length - 1];
    expect(report).toMatchObject({ event: 'report', out, stopped: true });
    expect(existsSync(join(out, 'report.json'))).toBe(true);
  });
});
