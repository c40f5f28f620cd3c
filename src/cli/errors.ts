import { CheckpointError } from '../checkpoint/errors.js';
import { BackendError } from '../compute/backend.js';
import { DataError } from '../data/errors.js';
import { TrainingError } from '../train/trainer.js';

/** `charlm export` refusing a checkpoint it cannot make a page of; the message is one sentence naming the file. */
export class ExportError extends Error {
  override readonly name = 'ExportError';
}

/** Errors whose message is written for the person at the terminal: print it, no stack trace. */
const USER_ERRORS: readonly (new (...args: never[]) => Error)[] = [BackendError, CheckpointError, DataError, ExportError, TrainingError];

/** One clear sentence on stderr and a non-zero exit; a stack trace only for what is a bug in charlm. */
export function reportAndExit(error: unknown): never {
  if (error instanceof Error && USER_ERRORS.some((t) => error instanceof t)) {
    process.stderr.write(`charlm: ${error.message}\n`);
  } else {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`charlm: unexpected error (a bug in charlm, please report it): ${message}\n`);
    if (process.env.CHARLM_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
  }
  process.exit(1);
}
