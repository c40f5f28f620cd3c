// bin/charlm runs from any folder, where tsx finds no tsconfig: name the JSX runtime here too.
/* @jsxRuntime automatic */
/* @jsxImportSource react */
import { render } from 'ink';
import type { CompareRunner, ReportRow, RunResult } from '../train/compare.js';
import { CompareView, createCompareStore } from '../ui/compare-view.js';

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
  let interrupted = false;
  let stopping = false;
  const stop = (why: 'quit' | 'interrupt'): void => {
    if (why === 'interrupt') interrupted = true;
    if (stopping) {
      if (why !== 'interrupt') return;
      // A second Ctrl-C leaves at once; checkpoints are written atomically.
      app.unmount();
      process.exit(130);
    }
    stopping = true;
    store.dispatch({ event: 'stopping' });
    runner.stop();
  };
  const onSigint = (): void => stop('interrupt');
  process.on('SIGINT', onSigint);
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
    process.off('SIGINT', onSigint);
  }
  return interrupted ? 130 : 0;
}
