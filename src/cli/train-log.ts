import type { TrainEvent } from '../train/events.js';

type Write = (line: string) => void;

/** One JSON object per event per line: the machine-readable log (`--json`). */
export function jsonLog(write: Write): (e: TrainEvent) => void {
  return (e) => write(`${JSON.stringify(e)}\n`);
}

const fixed = (x: number | null, digits: number): string => (x === null ? '—' : x.toFixed(digits));

function rate(charsPerSec: number): string {
  return charsPerSec >= 1000 ? `${(charsPerSec / 1000).toFixed(1)}k` : charsPerSec.toFixed(0);
}

/** Plain progress lines for a pipe or a terminal without the dashboard; steps every `every`. */
export function plainLog(write: Write, every: number): (e: TrainEvent) => void {
  let total: number | null = null;
  return (e) => {
    switch (e.event) {
      case 'start': {
        total = e.totalSteps;
        const m = e.model;
        write(
          `charlm: training ${m.cell} ×${m.layers} hidden ${m.hidden} embed ${m.embed} (${e.params} parameters) on ${e.corpus} ` +
            `(${e.corpusBytes} bytes, vocabulary ${e.vocabSize}), batch ${e.batch} × seq ${e.seq}, seed ${e.seed}\n` +
            `charlm: backend ${e.backend}\n` +
            `charlm: run folder ${e.outDir}${e.resumedFrom ? `, resumed from ${e.resumedFrom} at step ${e.step}` : ''}\n`,
        );
        break;
      }
      case 'step':
        if (e.step % every === 0) {
          write(
            `step ${e.step}${total === null ? '' : `/${total}`} | epoch ${e.epoch} | loss ${e.loss.toFixed(4)} | lr ${e.lr.toExponential(2)} | ` +
              `grad norm ${e.gradNorm.toFixed(2)} | ${rate(e.charsPerSec)} chars/s\n`,
          );
        }
        break;
      case 'eval':
        write(
          `eval at step ${e.step}: val loss ${e.valLoss.toFixed(4)} | ppl ${e.valPpl.toFixed(3)} | bpc ${e.valBpc.toFixed(4)} | ` +
            `bits/byte ${e.valBitsPerByte.toFixed(4)}${e.best ? ' (best)' : ''}\n`,
        );
        break;
      case 'sample':
        write(`sample at step ${e.step} (temperature ${e.temperature}):\n${e.text}\n---\n`);
        break;
      case 'checkpoint':
        write(`saved ${e.kind} → ${e.path}\n`);
        break;
      case 'done':
        write(
          `done at step ${e.step}${e.stopped ? ' (stopped early)' : ''}: val loss ${fixed(e.valLoss, 4)}, bpc ${fixed(e.valBpc, 4)}; ` +
            `latest ${e.checkpoint}${e.best ? `, best ${e.best}` : ''}\n`,
        );
        break;
      case 'error':
        break;
    }
  };
}
