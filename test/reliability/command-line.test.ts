import yargs from 'yargs';
import { describe, expect, it } from 'vitest';
import { benchCommand } from '../../src/cli/bench.js';
import { evalCommand } from '../../src/cli/eval.js';
import { infoCommand } from '../../src/cli/info.js';
import { sampleCommand } from '../../src/cli/sample.js';
import { trainCommand } from '../../src/cli/train.js';
import { charlm } from '../support/cli.js';
import { oneSentence } from './run.js';

// test/cli/bad-input.test.ts runs --lr abc, --lr with no value, --hidden 0, --seq -1, --temperature -1 (train and
// sample), --split 50,60,0 and --hiden through the real CLI. Here: the rest of every numeric and choice flag, in
// process through the same yargs commands (a CLI process costs seconds to start), and a few through the real CLI.

/**
 * The message yargs hands main.ts's fail handler, which prints it after
 * "charlm: ". Only refusals are parsed here: a command line that passed its
 * checks would start the command, and `nothing.txt` makes that fail at once.
 */
function refusal(args: string[]): string {
  let message: string | undefined;
  const parser = [trainCommand, sampleCommand, evalCommand, infoCommand, benchCommand]
    .reduce((y, command) => command(y), yargs(args))
    .strict()
    .exitProcess(false)
    .fail((msg, error) => {
      message = msg ?? error?.message;
      throw new Error('refused');
    });
  try {
    void parser.parse();
  } catch {
    // The refusal itself.
  }
  if (message === undefined) throw new Error(`charlm ${args.join(' ')} was not refused`);
  return message;
}

const train = (...flags: string[]): string[] => ['train', 'nothing.txt', ...flags];
const sample = (...flags: string[]): string[] => ['sample', 'nothing.safetensors', ...flags];

const cases: [string[], RegExp][] = [
  [train('--layers', '0'), /^--layers must be a whole number of at least 1 \(got 0\)\.$/],
  [train('--hidden', '2.5'), /^--hidden must be a whole number of at least 1 \(got 2\.5\)\.$/],
  [train('--embed', '-1'), /^--embed must be a whole number of at least 0 \(got -1\)\.$/],
  [train('--batch', '0'), /^--batch must be a whole number of at least 1 \(got 0\)\.$/],
  [train('--steps', '0'), /^--steps must be a whole number of at least 1 \(got 0\)\.$/],
  [train('--eval-every', '0'), /^--eval-every must be a whole number of at least 1 \(got 0\)\.$/],
  [train('--sample-every', '-1'), /^--sample-every must be a whole number of at least 0 \(got -1\)\.$/],
  [train('--sample-length', '0'), /^--sample-length must be a whole number of at least 1 \(got 0\)\.$/],
  [train('--warmup', '-1'), /^--warmup must be a whole number of at least 0 \(got -1\)\.$/],
  [train('--decay-every', '0'), /^--decay-every must be a whole number of at least 1 \(got 0\)\.$/],
  [train('--max-nonfinite', '0'), /^--max-nonfinite must be a whole number of at least 1 \(got 0\)\.$/],
  [train('--keep-last', '0'), /^--keep-last must be a whole number of at least 1 \(got 0\)\.$/],
  [train('--keep-best', '1.5'), /^--keep-best must be a whole number of at least 1 \(got 1\.5\)\.$/],
  [train('--lr', '0'), /^--lr must be a number greater than 0 \(got 0\)\.$/],
  [train('--lr', '-1'), /^--lr must be a number greater than 0 \(got -1\)\.$/],
  [train('--epochs', '0'), /^--epochs must be a number greater than 0 \(got 0\)\.$/],
  [train('--minutes', '-5'), /^--minutes must be a number greater than 0 \(got -5\)\.$/],
  [train('--decay-gamma', '0'), /^--decay-gamma must be a number greater than 0 \(got 0\)\.$/],
  [train('--dropout', '1'), /^--dropout must be in \[0, 1\) \(got 1\)\.$/],
  [train('--clip', '-1'), /^--clip must be 0 \(off\) or more \(got -1\)\.$/],
  [train('--momentum', '1'), /^--momentum must be in \[0, 1\) \(got 1\)\.$/],
  [train('--seed', '1.5'), /^--seed must be a whole number \(got 1\.5\)\.$/],
  [train('--split', '50,60,0'), /^--split 50,60,0: the train\/val\/test percentages must add up to 100, not 110\.$/],
  [train('--split', '0,50,50'), /^--split 0,50,50: the train split must be more than 0%\.$/],
  [train('--split', '90,10'), /^--split 90,10: the split must look like 90,5,5 \(train,val,test percentages\), not "90,10"\.$/],
  [train('--forget-bias', 'high'), /^--forget-bias must be a number or "pytorch" \(got "high"\)\.$/],
  [train('--schedule', 'cosine'), /^--schedule cosine decays over a step budget: give --steps or --epochs\.$/],
  [train('--cell', 'transformer'), /Argument: cell, Given: "transformer", Choices: "lstm", "gru", "rnn"/],
  [train('--optimizer', 'rmsprop'), /Argument: optimizer, Given: "rmsprop", Choices: "adam", "sgd"/],
  [train('--backend', 'cuda'), /Argument: backend, Given: "cuda", Choices: "auto", "webgpu", "headlessgl", "webasm", "cpu"/],
  [train('--steps'), /^Not enough arguments following: steps$/],
  [train('--max-nonfinite'), /^Not enough arguments following: max-nonfinite$/],
  [train('--keep-last'), /^Not enough arguments following: keep-last$/],
  [sample('--length', '0'), /^--length must be a whole number of at least 1, not 0\.$/],
  [sample('--top-k', '1.5'), /^--top-k must be a whole number, 0 \(no limit\) or more, not 1\.5\.$/],
  [sample('--top-p', '0'), /^--top-p must be a number above 0 and at most 1, not 0\.$/],
  [sample('--top-p', '1.5'), /^--top-p must be a number above 0 and at most 1, not 1\.5\.$/],
  [sample('--seed', '-1'), /^--seed must be a whole number from 0 to 2147483647, not -1\.$/],
  [sample('--temperature', 'hot'), /^--temperature must be 0 \(greedy\) or a larger number, not NaN\.$/],
  [sample('--tmperature', '1'), /^Unknown argument: tmperature$/],
  [['eval', 'x.safetensors', '--split', 'half'], /Argument: split, Given: "half", Choices: /],
  [['info', 'x.safetensors', '--verbose'], /^Unknown argument: verbose$/],
  [['bench', '--config', 'huge'], /Argument: config, Given: "huge", Choices: "small", "medium", "large"/],
];

describe('a bad flag value is refused naming the flag and what it allows', () => {
  it.each(cases)('charlm %j', (args, message) => {
    expect(refusal(args)).toMatch(message);
  });
});

describe('through the real CLI: one sentence, the pointer to --help, exit 1', () => {
  it.concurrent.each([
    [train('--split', '50,60,0'), 'charlm: --split 50,60,0: the train/val/test percentages must add up to 100, not 110.'],
    [train('--max-nonfinite', '0'), 'charlm: --max-nonfinite must be a whole number of at least 1 (got 0).'],
    [sample('--top-p', '1.5'), 'charlm: --top-p must be a number above 0 and at most 1, not 1.5.'],
  ])('charlm %j', async (args, sentence) => {
    const r = await charlm(args);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(oneSentence(r.stderr)).toBe(sentence);
  });

  it.concurrent('a bad choice: yargs lists the choices on a second line', async () => {
    const r = await charlm(train('--cell', 'transformer'));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('charlm: Invalid values:\n  Argument: cell, Given: "transformer", Choices: "lstm", "gru", "rnn"\nRun `charlm --help` for usage.\n');
  });
});
