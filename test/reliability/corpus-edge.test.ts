import { closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeCheckpoint } from '../../src/checkpoint/run-checkpoint.js';
import { CharVocab } from '../../src/data/vocab.js';
import { Rng } from '../../src/model/rng.js';
import { charlm } from '../support/cli.js';
import { corpusFile, englishLike } from '../support/corpus.js';
import { events, oneSentence, peakRss, start, TINY, without } from './run.js';

// Empty, binary (NUL bytes) and Latin-1 files are refused in test/cli/bad-input.test.ts.

let dir: string;
const at = (name: string): string => join(dir, name);

beforeAll(() => {
  ({ dir } = corpusFile(''));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a corpus that cannot be trained on is refused with one sentence before anything is written', () => {
  const cases: [string, string, string | Buffer, string[], RegExp][] = [
    ['one character', 'one.txt', 'x', [], /^charlm: The training split has 0 characters, fewer than the 9 that one window of 1 stream × 9 characters needs; use a longer corpus\.$/],
    // Without --strict such a corpus trains on fewer streams (test/cli/train).
    ['shorter than one batch window at the default batch and seq, with --strict', 'short.txt', englishLike(1500), ['--batch', '32', '--seq', '64', '--strict'], /has 1,\d{3} characters, which gives 0 windows per stream at --batch 32 --seq 64 where 20 are needed; choose a smaller --batch or --seq/],
    // UTF-16 text has a NUL in every ASCII character; refused as binary rather than misread.
    ['UTF-16 text', 'utf-16.txt', Buffer.from('\ufeffhello, world\n', 'utf16le'), [], /utf-16\.txt looks like a binary file \(it contains NUL bytes\), not text\.$/],
    ['bytes that are neither text nor NUL-bearing', 'high-bytes.txt', Buffer.from(Array.from({ length: 512 }, (_, i) => 0x80 + (i % 128))), [], /high-bytes\.txt is not valid UTF-8 text; convert it to UTF-8 first\.$/],
  ];
  it.concurrent.each(cases)('%s', async (_, name, content, flags, sentence) => {
    writeFileSync(at(name), content);
    const out = at(`run-${name}`);
    const r = await charlm(['train', at(name), ...without(TINY, ...flags.filter((f) => f.startsWith('--'))), ...flags, '--steps', '2', '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(oneSentence(r.stderr)).toMatch(sentence);
    // The run folder charlm created for it is removed again, since nothing was written.
    expect(existsSync(out)).toBe(false);
  });
});

/** Astral characters (emoji, ZWJ sequences, flags, mathematical letters, CJK extension B), combining marks, Hebrew and Arabic. */
const WORDS = [
  '🐋', '😀', '👩‍💻', '🇩🇪', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢', '𠀀𠀁', 'e\u0301te\u0301', 'n\u0303o', 'ש\u05C1ָלוֹם', 'עוֹלָם', 'مَرْحَبًا', 'بالعالم', 'naïve', 'Ahab',
];

function unicodeText(chars: number): string {
  const rng = Rng.seeded(3);
  const words: string[] = [];
  let size = 0;
  while (size < chars) {
    const w = rng.uniform() < 0.5 ? WORDS[Math.floor(rng.uniform() * WORDS.length)] : englishLike(20, size + 1).split(' ')[0];
    words.push(w);
    size += w.length + 1;
  }
  return `${words.join(' ')}\n`;
}

/** A sample is made of whole code points the model knows: no lone surrogate, every symbol in the vocabulary. */
function wholeSymbols(text: string, vocab: CharVocab): void {
  expect(text).not.toMatch(/\p{Cs}/u);
  for (const ch of text) expect(vocab.has(ch), JSON.stringify(ch)).toBe(true);
}

describe('text beyond ASCII', () => {
  it('trains, stores a vocabulary of whole code points that round-trips the corpus exactly, and samples only whole symbols', async () => {
    const text = unicodeText(4000);
    writeFileSync(at('unicode.txt'), text);
    const out = at('run-unicode');
    const r = await charlm(['train', at('unicode.txt'), ...without(TINY, '--sample-every'), '--sample-every', '2', '--sample-length', '60', '--steps', '4', '--eval-every', '4', '--out', out]);
    expect(r.code, r.stderr).toBe(0);

    const contents = decodeCheckpoint(readFileSync(join(out, 'latest.safetensors')), 'latest');
    const vocab = CharVocab.fromJSON(contents.vocab);
    expect(vocab.symbols.every((s) => [...s].length === 1)).toBe(true);
    expect(new Set(vocab.symbols)).toEqual(new Set(text));
    expect(vocab.decode(vocab.encode(text))).toBe(text);

    const live = events(r.stdout).filter((e) => e.event === 'sample');
    expect(live.length).toBe(2);
    for (const s of live) {
      expect([...(s.text as string)].length).toBe(60);
      wholeSymbols(s.text as string, vocab);
    }

    // A hot temperature reaches the rare symbols too; the prime mixes every script of the corpus.
    const prime = 'שָׁלוֹם 🐋 e\u0301 مَرْحَبًا 👩‍💻 ';
    const s = await charlm(['sample', join(out, 'latest.safetensors'), '--prime', prime, '--length', '400', '--temperature', '3', '--backend', 'cpu', '--json']);
    expect(s.code, s.stderr).toBe(0);
    const sample = JSON.parse(s.stdout) as { prime: string; text: string; length: number };
    expect(sample.prime).toBe(prime);
    expect([...sample.text].length).toBe(400);
    wholeSymbols(sample.text, vocab);
    expect([...sample.text].filter((ch) => ch.codePointAt(0)! > 0xffff).length).toBeGreaterThan(0);
  });
});

describe('a 100 MB corpus', () => {
  const LIMIT_MS = 15_000;
  const LIMIT_RSS = 1.5 * 1024 ** 3;

  it(`starts training within ${LIMIT_MS / 1000} s with a peak RSS under 1.5 GB`, async () => {
    const path = at('big.txt');
    // A few non-ASCII characters, as real text has: they make V8 hold the corpus as a two-byte string, the heavier case.
    const chunk = Buffer.from(englishLike(1 << 20).replace(/ whale /g, ' naïve whale — '));
    const fd = openSync(path, 'w');
    let size = 0;
    while (size < 100_000_000) size += writeSync(fd, chunk);
    closeSync(fd);

    const t0 = performance.now();
    const run = start(['train', path, ...TINY, '--steps', '1000000', '--eval-every', '1000000', '--out', at('run-big')]);
    try {
      await run.until((e) => e.event === 'step');
      const firstStepMs = performance.now() - t0;
      await run.until((e) => e.event === 'step' && (e.step as number) >= 3);
      const rss = peakRss(run.pid);
      console.info(`100 MB corpus (${size} bytes): first step after ${(firstStepMs / 1000).toFixed(1)} s, peak RSS ${rss === null ? 'unknown (no /proc)' : `${(rss / 1024 ** 2).toFixed(0)} MB`}`);
      expect(firstStepMs).toBeLessThan(LIMIT_MS);
      if (rss !== null) expect(rss).toBeLessThan(LIMIT_RSS);
    } finally {
      run.child.kill('SIGKILL');
      await run.exit;
      rmSync(path, { force: true });
      rmSync(at('run-big'), { recursive: true, force: true });
    }
  });
});
