import type { Argv } from 'yargs';
import { EVAL_PARTS, evaluate } from '../api/evaluate.js';
import { BACKEND_REQUESTS, type BackendRequest } from '../compute/backend.js';

export function evalCommand(y: Argv): Argv {
  return y.command(
    'eval <checkpoint> [corpus]',
    "Loss, perplexity, bits per character and per byte of a checkpoint on a corpus (default: its own validation split)",
    (a) =>
      a
        .positional('checkpoint', { type: 'string', demandOption: true, describe: 'a .safetensors file written by charlm train' })
        .positional('corpus', { type: 'string', describe: 'text file, folder or bundled name [default: the corpus the checkpoint was trained on]' })
        .option('split', {
          choices: EVAL_PARTS,
          describe: "part to score, cut by the run's train/val/test percentages [default: val without a corpus, all with one]",
        })
        .option('backend', { choices: BACKEND_REQUESTS, default: 'auto' as BackendRequest, describe: 'gpu.js backend' })
        .option('json', { type: 'boolean', default: false, describe: 'one JSON object: loss, ppl, bpc, bitsPerByte, chars, split, backend' })
        .requiresArg(['split', 'backend']),
    async (v) => {
      const r = await evaluate(v.checkpoint, { corpus: v.corpus, split: v.split, backend: v.backend });
      if (v.json) {
        const out = { loss: r.loss, ppl: r.ppl, bpc: r.bpc, bitsPerByte: r.bitsPerByte, chars: r.chars, split: r.split, backend: r.backend };
        process.stdout.write(`${JSON.stringify(out)}\n`);
      } else {
        process.stdout.write(
          `${r.corpus} (${r.split === 'all' ? 'whole text' : `${r.split} split`}, ${r.chars} characters scored): ` +
            `loss ${r.loss.toFixed(4)} nats/char | ppl ${r.ppl.toFixed(3)} | bpc ${r.bpc.toFixed(4)} | bits/byte ${r.bitsPerByte.toFixed(4)} | ppl per ${r.bpe.encoding} token ${r.bpe.ppl.toFixed(3)}\n` +
            `backend ${r.backend}\n`,
        );
      }
    },
  );
}
