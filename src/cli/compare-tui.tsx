// bin/charlm runs from any folder, where tsx finds no tsconfig: name the JSX runtime here too.
/* @jsxRuntime automatic */
/* @jsxImportSource react */
import { render } from 'ink';
import type { CompareRunner, ReportRow, RunResult } from '../train/compare.js';
import { CompareView, createCompareStore } from '../ui/compare-view.js';
import { STOP_SIGNALS, signalStatus } from './signals.js';

/** How often the view may redraw; a terminal shows no more. */
const FRAME_MS = 33;

/**
 * Runs the comparison under the compare dashboard. `finish` writes the report;
 * q or Ctrl-C stops the run in progress and reports the finished ones. Returns
 * the exit status: 0, or 130 after Ctrl-C.
 */
export async function compareWithDashboard(
  runner: CompareRunner,
  finish: (results: RunResult[]) => Promise<{ report: { rows: readonly ReportRow[] }; paths: string[] }>,
  outDir: string,
): Promise<number> {
  const store = createCompareStore(FRAME_MS);
  runner.subscribe(store.dispatch);
  /** The signal that stopped the runs, for the exit status; Ctrl-C typed in raw mode counts as SIGINT. */
  let signalled: NodeJS.Signals | null = null;
  let stopping = false;
  const stop = (why: 'quit' | 'interrupt', signal: NodeJS.Signals = 'SIGINT'): void => {
    if (why === 'interrupt') signalled ??= signal;
    if (stopping) {
      if (why !== 'interrupt') return;
      // A second Ctrl-C leaves at once; checkpoints are written atomically.
      app.unmount();
      process.exit(signalStatus(signalled ?? signal));
    }
    stopping = true;
    store.dispatch({ event: 'stopping' });
    runner.stop();
  };
  const onSignal = (signal: NodeJS.Signals): void => stop('interrupt', signal);
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
  const app = render(<CompareView store={store} onStop={stop} />, { exitOnCtrlC: false });
  try {
    const { report } = await finish(await runner.run());
    store.dispatch({ event: 'report', rows: report.rows, out: outDir });
    store.flush();
    const guard = setTimeout(() => app.unmount(), 2000);
    await app.waitUntilExit();
    clearTimeout(guard);
  } catch (e) {
    store.flush();
    app.unmount();
    throw e;
  } finally {
    for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
  }
  return signalled ? signalStatus(signalled) : 0;
}
