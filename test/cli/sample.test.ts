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
    expect(Object.keys(s).sort()).toEqual(['backend', 'event', 'length', 'prime', 'seed', 'temperature', 'text', 'topK', 'topP']);
    expect(s).toMatchObject({ event: 'sample', prime: 'Old ', length: 40, temperature: 0.8, topK: 5, topP: 1, seed: 11 });
    expect(codePoints(s.text as string)).toBe(40);
    expect(s.backend).toMatch(/^cpu/);
    // The same options without --json stream the very same text.
    const plain = await sample('--prime', 'Old ', '--length', '40', '--temperature', '0.8', '--top-k', '5', '--seed', '11');
    expect(plain).toBe(`Old ${s.text as string}\n`);
  });

  it('refuses a prime with a character the model never saw, naming it', async () => {
    const r = await charlm(['sample', checkpoint, '--prime', 'The Zebra', '--backend', 'cpu']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^charlm: --prime has the character "Z" \(U\+005A\) .*\.\n$/);
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
  ])('refuses %j with one sentence naming the flag', async (args, message) => {
    const r = await charlm(['sample', checkpoint, ...args]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n')[0]).toMatch(message);
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });
});
