import type { Argv } from 'yargs';
import { BACKEND_REQUESTS, describeBackend, selectBackend, type BackendRequest } from '../compute/backend.js';
import { Rng } from '../model/rng.js';
import { primeIds } from '../sample/prime.js';
import { Sampler } from '../sample/sampler.js';
import { DEFAULT_SAMPLING, type SamplingOptions } from '../sample/strategy.js';
import { encodeFor, loadForUse } from './checkpoint-model.js';
import { sampleWithView } from './sample-tui.js';

/**
 * Fixed, as char-rnn (-seed 123) and nanoGPT (1337) fix theirs and as `charlm
 * train --seed` does: the same command prints the same text, in scripts and
 * in docs; --seed is how a user asks for different text.
 */
export const DEFAULT_SAMPLE_SEED = 1;
export const DEFAULT_SAMPLE_LENGTH = 500;
/** Rng.seeded keeps 32 signed bits; beyond this two seeds would silently give the same text. */
const MAX_SEED = 2 ** 31 - 1;

/** One sentence naming the flag; yargs reports it through main's fail handler. */
function check(ok: boolean, flag: string, rule: string, value: unknown): void {
  if (!ok) throw new Error(`--${flag} must be ${rule}, not ${String(value)}.`);
}

export function sampleCommand(y: Argv): Argv {
  return y.command(
    'sample <checkpoint>',
    'Generate text from a checkpoint, streaming characters as they are produced',
    (a) =>
      a
        .positional('checkpoint', { type: 'string', demandOption: true, describe: 'a .safetensors file written by charlm train' })
        .option('prime', { type: 'string', default: '', describe: 'text the model reads first; printed before the sample' })
        .option('length', { type: 'number', default: DEFAULT_SAMPLE_LENGTH, describe: 'characters to generate after the prime' })
        .option('temperature', { type: 'number', default: DEFAULT_SAMPLING.temperature, describe: '0 = always the most likely character; higher = more varied' })
        .option('top-k', { type: 'number', default: DEFAULT_SAMPLING.topK, describe: 'draw only from the k most likely characters, 0 = all' })
        .option('top-p', { type: 'number', default: DEFAULT_SAMPLING.topP, describe: 'draw only from the most likely characters whose probability adds up to p, 1 = all' })
        .option('seed', { type: 'number', default: DEFAULT_SAMPLE_SEED, describe: 'random seed: the same seed gives the same text' })
        .option('backend', { choices: BACKEND_REQUESTS, default: 'auto' as BackendRequest, describe: 'gpu.js backend' })
        .option('json', { type: 'boolean', default: false, describe: 'one JSON object with the whole sample instead of streaming text' })
        .option('tui', { type: 'boolean', default: true, describe: 'interactive view on a terminal (--no-tui for plain text)' })
        .requiresArg(['prime', 'length', 'temperature', 'top-k', 'top-p', 'seed', 'backend'])
        .check((v) => {
          check(Number.isSafeInteger(v.length) && v.length >= 1, 'length', 'a whole number of at least 1', v.length);
          check(Number.isFinite(v.temperature) && v.temperature >= 0, 'temperature', '0 (greedy) or a larger number', v.temperature);
          check(Number.isSafeInteger(v['top-k']) && v['top-k'] >= 0, 'top-k', 'a whole number, 0 (no limit) or more', v['top-k']);
          check(Number.isFinite(v['top-p']) && v['top-p'] > 0 && v['top-p'] <= 1, 'top-p', 'a number above 0 and at most 1', v['top-p']);
          check(Number.isSafeInteger(v.seed) && v.seed >= 0 && v.seed <= MAX_SEED, 'seed', `a whole number from 0 to ${MAX_SEED}`, v.seed);
          check(typeof v.prime === 'string', 'prime', 'given once', v.prime);
          return true;
        }),
    async (v) => {
      const ckpt = await loadForUse(v.checkpoint);
      const { vocab } = ckpt;
      const prime = v.prime === '' ? primeIds(vocab, '') : encodeFor(vocab, v.prime, '--prime', v.checkpoint);
      const compute = await selectBackend(v.backend);
      const sampler = new Sampler(compute.runner, ckpt.contents.model);
      const options: SamplingOptions = { temperature: v.temperature, topK: v['top-k'], topP: v['top-p'] };
      // The view needs a terminal to draw on and one to read keys from; anything else gets plain text (or --json).
      if (v.tui && !v.json && process.stdout.isTTY && process.stdin.isTTY) {
        const m = ckpt.contents.model;
        const model = `${m.cell.toUpperCase()} ${m.layers}×${m.hidden} · step ${ckpt.progress.step}`;
        const info = { checkpoint: v.checkpoint, model, backend: describeBackend(compute) };
        const code = await sampleWithView({ sampler, params: ckpt.contents.params, vocab, prime, primeText: v.prime, length: v.length, options, seed: v.seed, info });
        compute.runner.destroy();
        process.exit(code);
      }
      const rng = Rng.seeded(v.seed);
      const generated: string[] = [];
      if (!v.json) process.stdout.write(v.prime);
      for await (const id of sampler.generate(ckpt.contents.params, prime, v.length, () => options, rng)) {
        const symbol = vocab.decode([id]);
        generated.push(symbol);
        if (!v.json) process.stdout.write(symbol);
      }
      const backend = describeBackend(compute);
      compute.runner.destroy();
      if (v.json) {
        const out = { event: 'sample', prime: v.prime, text: generated.join(''), length: generated.length, temperature: v.temperature, topK: v['top-k'], topP: v['top-p'], seed: v.seed, backend };
        process.stdout.write(`${JSON.stringify(out)}\n`);
      } else {
        process.stdout.write('\n');
      }
    },
  );
}
