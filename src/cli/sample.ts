import type { Argv } from 'yargs';
import { DEFAULT_SAMPLE_SEED, MAX_SEED, loadModel } from '../api/model.js';
import { BACKEND_REQUESTS, type BackendRequest } from '../compute/backend.js';
import { describeSymbol, encodePrime, UNKNOWN_SYMBOLS, type UnknownSymbols } from '../sample/prime.js';
import { DEFAULT_SAMPLE_LENGTH, DOCUMENT_CAP } from '../sample/session.js';
import { parseStop } from '../sample/stop.js';
import { DEFAULT_SAMPLING, type SamplingOptions } from '../sample/strategy.js';
import { printSamples, type Decoding } from './sample-print.js';

/** Every beam is a row of one batch: a width far past any useful one would only exhaust memory. */
const MAX_BEAM = 1000;

/** One sentence naming the flag; yargs reports it through main's fail handler. */
function check(ok: boolean, flag: string, rule: string, value: unknown): void {
  if (!ok) throw new Error(`--${flag} must be ${rule}, not ${String(value)}.`);
}

const whole = (v: unknown, least: number): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v >= least;

/** The --stop values as text (a flag given once is a string, given again a list); a bad one refused naming it. */
function stopSequences(flags: string | string[]): string[] {
  return [flags].flat().map((flag) => {
    const parsed = parseStop(flag);
    if ('error' in parsed) throw new Error(`--stop "${flag}" ${parsed.error}.`);
    return parsed.stop;
  });
}

export function sampleCommand(y: Argv): Argv {
  return y.command(
    'sample <checkpoint>',
    'Generate text from a checkpoint, streaming characters as they are produced',
    (a) =>
      a
        // --no-repeat-ngram N is a number, not the negation of a --repeat-ngram; --no-tui is declared as its own flag instead.
        .parserConfiguration({ 'boolean-negation': false })
        .positional('checkpoint', { type: 'string', demandOption: true, describe: 'a .safetensors file written by charlm train' })
        .option('prime', { type: 'string', default: '', describe: 'text the model reads first; printed before the sample' })
        .option('unknown', { choices: UNKNOWN_SYMBOLS, default: 'refuse' as UnknownSymbols, describe: 'a prime symbol the model does not know: refuse the prime, or skip the symbol' })
        // No yargs defaults for these four: whether they were given changes what they mean (document mode, --beam).
        .option('length', { type: 'number', describe: `symbols to generate after the prime [default: ${DEFAULT_SAMPLE_LENGTH}; a document model: one document, at most ${DOCUMENT_CAP.toLocaleString('en-US')}]` })
        .option('temperature', { type: 'number', describe: `0 = always the most likely character; higher = more varied [default: ${DEFAULT_SAMPLING.temperature}]` })
        .option('top-k', { type: 'number', describe: `draw only from the k most likely characters, 0 = all [default: ${DEFAULT_SAMPLING.topK}]` })
        .option('top-p', { type: 'number', describe: `draw only from the most likely characters whose probability adds up to p, 1 = all [default: ${DEFAULT_SAMPLING.topP}]` })
        .option('beam', { type: 'number', describe: 'beam search of this width: the likeliest text it finds (deterministic; no --temperature, --top-k, --top-p)' })
        .option('stop', { type: 'string', coerce: stopSequences, describe: 'end the sample where this text first appears, not printing it; repeatable; \\n \\t \\r \\\\ are escapes' })
        .option('no-repeat-ngram', { type: 'number', describe: 'never repeat an n-gram of this many symbols (prime included), in every decoding' })
        .option('count', { type: 'number', default: 1, describe: 'independent samples, each from the prime; a blank line between them (one document per line for a --documents line model; in --json one line each)' })
        .option('seed', { type: 'number', default: DEFAULT_SAMPLE_SEED, describe: 'random seed: the same seed gives the same text' })
        .option('backend', { choices: BACKEND_REQUESTS, default: 'auto' as BackendRequest, describe: 'gpu.js backend' })
        .option('json', { type: 'boolean', default: false, describe: 'one JSON object per sample instead of streaming text' })
        .option('tui', { type: 'boolean', default: true, describe: 'interactive view on a terminal (--no-tui for plain text)' })
        .option('no-tui', { type: 'boolean', default: false, hidden: true })
        .requiresArg(['prime', 'unknown', 'length', 'temperature', 'top-k', 'top-p', 'beam', 'stop', 'no-repeat-ngram', 'count', 'seed', 'backend'])
        .check((v) => {
          check(v.length === undefined || whole(v.length, 1), 'length', 'a whole number of at least 1', v.length);
          check(v.temperature === undefined || (Number.isFinite(v.temperature) && v.temperature >= 0), 'temperature', '0 (greedy) or a larger number', v.temperature);
          check(v['top-k'] === undefined || whole(v['top-k'], 0), 'top-k', 'a whole number, 0 (no limit) or more', v['top-k']);
          check(v['top-p'] === undefined || (Number.isFinite(v['top-p']) && v['top-p'] > 0 && v['top-p'] <= 1), 'top-p', 'a number above 0 and at most 1', v['top-p']);
          check(Number.isSafeInteger(v.seed) && v.seed >= 0 && v.seed <= MAX_SEED, 'seed', `a whole number from 0 to ${MAX_SEED}`, v.seed);
          check(v.beam === undefined || (whole(v.beam, 1) && v.beam <= MAX_BEAM), 'beam', `a whole number from 1 to ${MAX_BEAM}`, v.beam);
          check(v['no-repeat-ngram'] === undefined || whole(v['no-repeat-ngram'], 1), 'no-repeat-ngram', 'a whole number of at least 1', v['no-repeat-ngram']);
          check(whole(v.count, 1), 'count', 'a whole number of at least 1', v.count);
          check(typeof v.prime === 'string', 'prime', 'given once', v.prime);
          if (v.beam !== undefined) {
            const sampling = ['temperature', 'top-k', 'top-p'].filter((f) => v[f] !== undefined);
            if (sampling.length > 0) throw new Error(`--beam searches for the likeliest text rather than drawing one, so it takes no ${sampling.map((f) => `--${f}`).join(', ')}.`);
            if (v.count > 1) throw new Error('--beam gives the one likeliest text it finds, so it takes no --count above 1.');
          }
          return true;
        }),
    async (v) => {
      const model = await loadModel(v.checkpoint, { backend: v.backend });
      const ckpt = model.checkpoint;
      const { vocab } = ckpt;
      const prime = encodePrime(vocab, v.prime, v.unknown);
      if (prime.dropped.length > 0) process.stderr.write(`charlm: note: dropped ${prime.dropped.map(describeSymbol).join(', ')} from the prime: not in this model's vocabulary.\n`);
      const stops: string[] = v.stop ?? [];
      const session = model.session({
        prime: prime.ids,
        length: v.length ?? null,
        stops,
        noRepeatNgram: v['no-repeat-ngram'] ?? 0,
      });
      const options: SamplingOptions = {
        temperature: v.temperature ?? DEFAULT_SAMPLING.temperature,
        topK: v['top-k'] ?? DEFAULT_SAMPLING.topK,
        topP: v['top-p'] ?? DEFAULT_SAMPLING.topP,
      };
      // The view streams one sample at a time and needs a terminal to draw on and one to read keys from; beam search
      // is one batch decode with nothing to watch, and --count asks for a list, so those print plain text.
      const tui = v.tui && !v['no-tui'];
      if (tui && !v.json && v.beam === undefined && v.count === 1 && process.stdout.isTTY && process.stdin.isTTY) {
        const m = model.config;
        const info = { checkpoint: v.checkpoint, model: `${m.cell.toUpperCase()} ${m.layers}×${m.hidden} · step ${ckpt.progress.step}`, backend: model.backend };
        // Loaded only for the dashboard: Ink and React add ~46 MB to a plain or --json run.
        const { sampleWithView } = await import('./sample-tui.js');
        const code = await sampleWithView({ session, primeText: prime.text, options, seed: v.seed, info });
        model.close();
        process.exit(code);
      }
      const decoding: Decoding = v.beam !== undefined ? { kind: 'beam', width: v.beam } : { kind: 'sample', options };
      const beam = decoding.kind === 'beam';
      const settings = {
        decoding: beam ? 'beam' : options.temperature === 0 ? 'greedy' : 'sample',
        beam: v.beam ?? null,
        temperature: beam ? null : options.temperature,
        topK: beam ? null : options.topK,
        topP: beam ? null : options.topP,
        seed: v.seed,
        stop: stops,
        noRepeatNgram: v['no-repeat-ngram'] ?? 0,
        backend: model.backend,
      };
      // Documents that are lines (--documents line) print one per line; anything else can hold line breaks of its own.
      const blankLineBetween = !(session.documents && ckpt.training.documents === 'line');
      await printSamples(session, { count: v.count, decoding, seed: v.seed, prime: prime.text, json: v.json, blankLineBetween, settings }, {
        write: (text) => process.stdout.write(text),
        note: (text) => process.stderr.write(`charlm: note: ${text}\n`),
      });
      model.close();
    },
  );
}
