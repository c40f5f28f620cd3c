import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeSafetensors, encodeSafetensors } from '../../src/checkpoint/safetensors.js';
import { charlm } from '../support/cli.js';
import { corpusFile, englishLike } from '../support/corpus.js';

const TINY = ['--hidden', '8', '--embed', '4', '--layers', '1', '--batch', '2', '--seq', '8', '--steps', '2', '--eval-every', '2', '--backend', 'cpu'];
/** TINY without one flag, so the case's own value is the only one (yargs collects a repeated flag into a list). */
const tinyWithout = (flag: string): string[] => TINY.filter((_, i) => TINY[i] !== flag && TINY[i - 1] !== flag);

let dir: string;
let corpus: string;
let run: string;
/** Every file of the run folder and every bad input, as bytes, before any refusal ran. */
let before: Map<string, Buffer>;

const at = (name: string): string => join(dir, name);

function snapshot(): Map<string, Buffer> {
  const files = [...readdirSync(run).map((f) => join(run, f)), ...readdirSync(dir).filter((f) => f !== 'run').map(at)];
  return new Map(files.map((f) => [f, readFileSync(f)]));
}

beforeAll(async () => {
  ({ dir, path: corpus } = corpusFile(englishLike(3000)));
  run = at('run');
  const r = await charlm(['train', corpus, ...TINY, '--out', run]);
  expect(r.code, r.stderr).toBe(0);

  writeFileSync(at('binary.txt'), Buffer.from('some text\0\x01\x02 more text\n', 'latin1'));
  writeFileSync(at('empty.txt'), '');
  writeFileSync(at('latin1.txt'), Buffer.from('caf\xe9 au lait\n', 'latin1'));
  const latest = readFileSync(join(run, 'latest.safetensors'));
  writeFileSync(at('truncated.safetensors'), latest.subarray(0, latest.length - 100));
  const { tensors, metadata } = decodeSafetensors(latest, 'latest');
  writeFileSync(at('v99.safetensors'), encodeSafetensors(tensors, { ...metadata, format_version: '99' }));
  before = snapshot();
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Arguments relative to the temp folder (resolved when the test runs) and the sentence expected. */
type Case = [string, () => string[], RegExp];

const fresh = (): string => at('never-created');
const cases: Case[] = [
  ['train on a binary file', () => ['train', at('binary.txt'), '--out', fresh(), ...TINY], /binary\.txt looks like a binary file \(it contains NUL bytes\), not text\./],
  ['train on an empty file', () => ['train', at('empty.txt'), '--out', fresh(), ...TINY], /empty\.txt is empty\./],
  ['train on a missing path', () => ['train', at('missing.txt'), '--out', fresh(), ...TINY], /No such file or folder: .*missing\.txt\./],
  ['train on invalid UTF-8', () => ['train', at('latin1.txt'), '--out', fresh(), ...TINY], /latin1\.txt is not valid UTF-8 text/],
  ['train --lr abc', () => ['train', corpus, '--out', fresh(), ...TINY, '--lr', 'abc'], /--lr must be a number greater than 0/],
  ['train --lr with no value', () => ['train', corpus, '--out', fresh(), ...TINY, '--lr'], /Not enough arguments following: lr/],
  ['train --hidden 0', () => ['train', corpus, '--out', fresh(), ...tinyWithout('--hidden'), '--hidden', '0'], /--hidden must be a whole number of at least 1 \(got 0\)\./],
  ['train --seq -1', () => ['train', corpus, '--out', fresh(), ...tinyWithout('--seq'), '--seq', '-1'], /--seq must be a whole number of at least 1 \(got -1\)\./],
  ['train --temperature -1', () => ['train', corpus, '--out', fresh(), ...TINY, '--temperature', '-1'], /--temperature must be 0 \(greedy\) or more/],
  ['train --split 50,60,0', () => ['train', corpus, '--out', fresh(), ...TINY, '--split', '50,60,0'], /percentages must add up to 100, not 110\./],
  ['train with an unknown flag', () => ['train', corpus, '--out', fresh(), ...TINY, '--hiden', '8'], /Unknown argument: hiden/],
  ['train into a folder that holds a run', () => ['train', corpus, '--out', run, ...TINY], /already holds a run; continue it with --resume/],
  ['train --resume from a truncated checkpoint', () => ['train', corpus, '--resume', at('truncated.safetensors'), ...TINY], /truncated\.safetensors is truncated/],
  ['sample --temperature -1', () => ['sample', join(run, 'latest.safetensors'), '--temperature', '-1'], /--temperature must be 0 \(greedy\) or a larger number, not -1\./],
  ['sample a truncated checkpoint', () => ['sample', at('truncated.safetensors'), '--backend', 'cpu'], /truncated\.safetensors is truncated/],
  ['info on a truncated checkpoint', () => ['info', at('truncated.safetensors')], /truncated\.safetensors is truncated/],
  ['sample a checkpoint of format version 99', () => ['sample', at('v99.safetensors'), '--backend', 'cpu'], /v99\.safetensors uses checkpoint format version 99, newer than the 1 this charlm reads; upgrade charlm\./],
  ['info on a checkpoint of format version 99', () => ['info', at('v99.safetensors')], /format version 99, newer than/],
  ['eval a checkpoint of format version 99', () => ['eval', at('v99.safetensors'), corpus, '--backend', 'cpu'], /format version 99, newer than/],
  ['sample a missing checkpoint', () => ['sample', at('missing.safetensors'), '--backend', 'cpu'], /Cannot read checkpoint .*missing\.safetensors: no such file\./],
  ['info on a missing checkpoint', () => ['info', at('missing.safetensors')], /Cannot read checkpoint .*missing\.safetensors: no such file\./],
  ['info on a text file', () => ['info', corpus], /corpus\.txt is truncated or not a checkpoint/],
];

describe('bad input gets one clear sentence, a non-zero exit, no stack trace, nothing written', () => {
  it.concurrent.each(cases)('%s', async (_, args, sentence) => {
    const r = await charlm(args());
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^charlm: /);
    expect(lines[0]).toMatch(sentence);
    expect(lines[0]).not.toMatch(/unexpected error/);
    // yargs' own refusals add a pointer to --help; nothing else may follow the sentence.
    expect(lines.slice(1)).toEqual(lines.length > 1 ? ['Run `charlm --help` for usage.'] : []);
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });

  it('left the run folder and every input byte for byte as they were, and created no run folder', () => {
    // The concurrent cases above have all finished: vitest runs this sequential test after them.
    const after = snapshot();
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    for (const [file, bytes] of before) expect(after.get(file)!.equals(bytes), file).toBe(true);
    expect(existsSync(fresh())).toBe(false);
  });
});
