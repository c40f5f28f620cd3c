import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { charlm } from '../support/cli.js';
import { corpusFile, englishLike } from '../support/corpus.js';

// The whale emoji makes code points and UTF-16 units differ, so the length check means something.
const TEXT = englishLike(6000).replace(/whale/g, 'whale 🐋');
const TINY = ['--hidden', '16', '--embed', '8', '--batch', '4', '--seq', '16', '--steps', '20', '--eval-every', '10', '--backend', 'cpu'];

let dir: string;
let checkpoint: string;

const codePoints = (s: string): number => [...s].length;

async function sample(...args: string[]): Promise<string> {
  const r = await charlm(['sample', checkpoint, '--backend', 'cpu', ...args]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return r.stdout;
}

beforeAll(async () => {
  ({ dir } = corpusFile(TEXT));
  const out = join(dir, 'run');
  const r = await charlm(['train', join(dir, 'corpus.txt'), ...TINY, '--out', out, '--json']);
  expect(r.code, r.stderr).toBe(0);
  checkpoint = join(out, 'latest.safetensors');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('charlm sample', () => {
  it('prints the prime, then exactly --length characters (code points), then a newline', async () => {
    const prime = 'The 🐋 ';
    const out = await sample('--prime', prime, '--length', '120', '--seed', '3');
    expect(out.startsWith(prime)).toBe(true);
    expect(out.endsWith('\n')).toBe(true);
    expect(codePoints(out)).toBe(codePoints(prime) + 120 + 1);
  });

  it('gives the same text for the same seed, and other text for another seed', async () => {
    const args = ['--prime', 'The ', '--length', '150', '--temperature', '1'];
    const a = await sample(...args, '--seed', '7');
    const b = await sample(...args, '--seed', '7');
    const c = await sample(...args, '--seed', '8');
    expect(b).toBe(a);
    expect(c).not.toBe(a);
  });

  it('is greedy and repeatable at temperature 0, whatever the seed', async () => {
    const a = await sample('--length', '80', '--temperature', '0', '--seed', '1');
    const b = await sample('--length', '80', '--temperature', '0', '--seed', '2');
    expect(codePoints(a)).toBe(81);
    expect(b).toBe(a);
  });

  it('prints one JSON line with the sample and how it was made under --json', async () => {
    const out = await sample('--prime', 'Old ', '--length', '40', '--temperature', '0.8', '--top-k', '5', '--seed', '11', '--json');
    const lines = out.trim().split('\n');
    expect(lines).toHaveLength(1);
    const s = JSON.parse(lines[0]) as Record<string, unknown>;
    expect(Object.keys(s).sort()).toEqual([
      'backend', 'beam', 'decoding', 'ending', 'event', 'index', 'length', 'logProb', 'noRepeatNgram', 'prime', 'seed', 'stop', 'temperature', 'text', 'topK', 'topP',
    ]);
    expect(s).toMatchObject({ event: 'sample', index: 0, prime: 'Old ', length: 40, ending: 'length', decoding: 'sample', beam: null, temperature: 0.8, topK: 5, topP: 1, seed: 11, stop: [], noRepeatNgram: 0 });
    expect(s.logProb).toBeLessThan(0);
    expect(codePoints(s.text as string)).toBe(40);
    expect(s.backend).toMatch(/^cpu/);
    // The same options without --json stream the very same text.
    const plain = await sample('--prime', 'Old ', '--length', '40', '--temperature', '0.8', '--top-k', '5', '--seed', '11');
    expect(plain).toBe(`Old ${s.text as string}\n`);
  });

  it('refuses a prime with a character the model never saw, naming it, or drops it under --unknown skip', async () => {
    const r = await charlm(['sample', checkpoint, '--prime', 'The Zea', '--backend', 'cpu']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('charlm: The prime contains "Z" (U+005A), which is not in this model\'s vocabulary; use --unknown skip to drop it.\n');
    const s = await charlm(['sample', checkpoint, '--prime', 'The Zea', '--unknown', 'skip', '--length', '10', '--backend', 'cpu']);
    expect(s.code).toBe(0);
    expect(s.stderr).toBe('charlm: note: dropped "Z" (U+005A) from the prime: not in this model\'s vocabulary.\n');
    expect(s.stdout.startsWith('The ea')).toBe(true);
    expect(codePoints(s.stdout)).toBe(codePoints('The ea') + 10 + 1);
  });

  it('finds text at least as likely as greedy decoding with --beam, and reports logProb for both', async () => {
    const json = async (...args: string[]) => JSON.parse(await sample('--prime', 'The ', '--length', '60', '--json', ...args)) as { text: string; logProb: number; decoding: string; beam: number | null };
    const greedy = await json('--temperature', '0');
    const beam = await json('--beam', '4');
    expect(greedy.decoding).toBe('greedy');
    expect(beam).toMatchObject({ decoding: 'beam', beam: 4 });
    expect(codePoints(beam.text)).toBe(60);
    expect(beam.logProb).toBeGreaterThanOrEqual(greedy.logProb);
    // Width 1 is greedy decoding.
    expect((await json('--beam', '1')).text).toBe(greedy.text);
    // Plain output prints the same text.
    expect(await sample('--prime', 'The ', '--length', '60', '--beam', '4')).toBe(`The ${beam.text}\n`);
  });

  it('ends at the first --stop match, printing none of it, in plain and JSON output', async () => {
    const free = await sample('--length', '300', '--seed', '5');
    // a pair of symbols the model did write, past the start, with no newline or backslash (the flag's escapes)
    let i = 20;
    while (/[\n\\]/.test(free.slice(i, i + 2))) i++;
    const stop = free.slice(i, i + 2);
    const at = free.indexOf(stop);
    expect(at).toBeGreaterThan(0);
    // An escape in the flag: "\n" is a newline, as --help says.
    const both = await sample('--length', '300', '--seed', '5', '--stop', stop, '--stop', '\\n');
    const cut = Math.min(at, free.indexOf('\n') < 0 ? Infinity : free.indexOf('\n'));
    expect(both).toBe(`${free.slice(0, cut)}\n`);
    const s = JSON.parse(await sample('--length', '300', '--seed', '5', '--stop', stop, '--json')) as { text: string; ending: string; stop: string[] };
    expect(s).toMatchObject({ text: free.slice(0, at), ending: 'stop', stop: [stop] });
  });

  it('prints --count samples separated by a blank line, one JSON line each, all repeatable by the seed', async () => {
    const args = ['--prime', 'The ', '--length', '30', '--seed', '9', '--count', '3'];
    const out = await sample(...args);
    expect(await sample(...args)).toBe(out);
    const lines = (await sample(...args, '--json')).trimEnd().split('\n').map((l) => JSON.parse(l) as { index: number; text: string });
    expect(lines.map((l) => l.index)).toEqual([0, 1, 2]);
    expect(new Set(lines.map((l) => l.text)).size).toBe(3);
    expect(out).toBe(lines.map((l) => `The ${l.text}\n`).join('\n'));
    // The first sample is the one --count 1 gives.
    expect(out.startsWith(await sample(...args.slice(0, -2)))).toBe(true);
  });

  it('never repeats an n-gram under --no-repeat-ngram', async () => {
    const s = JSON.parse(await sample('--prime', 'The ', '--length', '150', '--no-repeat-ngram', '4', '--temperature', '0', '--json')) as { text: string; noRepeatNgram: number };
    expect(s.noRepeatNgram).toBe(4);
    const chars = [...`The ${s.text}`];
    const grams = chars.slice(3).map((_, i) => chars.slice(i, i + 4).join(''));
    expect(new Set(grams).size).toBe(grams.length);
  });

  it.concurrent.each([
    [['--length', '0'], /--length must be a whole number of at least 1, not 0\./],
    [['--length', '2.5'], /--length/],
    [['--top-k', '-1'], /--top-k/],
    [['--top-p', '0'], /--top-p must be a number above 0 and at most 1, not 0\./],
    [['--top-p', '1.5'], /--top-p/],
    [['--seed', 'abc'], /--seed must be a whole number/],
    [['--temperature', 'hot'], /--temperature/],
    [['--length'], /length/],
    [['--beam', '0'], /^charlm: --beam must be a whole number from 1 to 1000, not 0\./],
    [['--beam', '1e9'], /^charlm: --beam must be a whole number from 1 to 1000, not 1000000000\./],
    [['--beam', '2', '--temperature', '0.5', '--top-k', '3'], /^charlm: --beam searches for the likeliest text rather than drawing one, so it takes no --temperature, --top-k\./],
    [['--beam', '2', '--count', '2'], /^charlm: --beam gives the one likeliest text it finds, so it takes no --count above 1\./],
    [['--no-repeat-ngram', '1.5'], /^charlm: --no-repeat-ngram must be a whole number of at least 1, not 1\.5\./],
    [['--count', '0'], /^charlm: --count must be a whole number of at least 1, not 0\./],
    [['--stop', ''], /^charlm: --stop "" is empty\./],
    [['--stop', 'a\\x'], /^charlm: --stop "a\\x" has the unknown escape \\x; write \\n, \\t, \\r or \\\\\./],
    [['--unknown', 'keep'], /^charlm: Invalid values:/],
  ])('refuses %j with one sentence naming the flag', async (args, message) => {
    const r = await charlm(['sample', checkpoint, ...args]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n')[0]).toMatch(message);
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });
});
