import { constants } from 'node:os';

/** Ctrl-C, `kill` and a closed terminal: each finishes the step in progress, saves latest and frees the run folder. */
export const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** The shell's convention for a process ended by a signal: 130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP. */
export function signalStatus(signal: NodeJS.Signals): number {
  return 128 + constants.signals[signal];
}
