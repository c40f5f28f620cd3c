import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../../src/model/rng.js';

const WORDS = 'the a ship whale sea captain man old white night day said and of to in was his that it he with for as on'.split(' ');

/** Deterministic English-like text of about `chars` characters, so tests need no corpus from outside the repo. */
export function englishLike(chars: number, seed = 1): string {
  const rng = Rng.seeded(seed);
  const lines: string[] = [];
  let size = 0;
  while (size < chars) {
    const n = 4 + Math.floor(rng.uniform() * 8);
    const words = Array.from({ length: n }, () => WORDS[Math.floor(rng.uniform() * WORDS.length)]);
    const line = `${words.join(' ')}.`;
    lines.push(line[0].toUpperCase() + line.slice(1));
    size += line.length + 1;
  }
  return `${lines.join('\n')}\n`;
}

/** A fresh temp folder holding `corpus.txt` with `text`. */
export function corpusFile(text: string): { dir: string; path: string } {
  const dir = mkdtempSync(join(tmpdir(), 'charlm-test-'));
  const path = join(dir, 'corpus.txt');
  writeFileSync(path, text);
  return { dir, path };
}
