// bin/charlm runs from any folder, where tsx finds no tsconfig: name the JSX runtime here too.
/* @jsxRuntime automatic */
/* @jsxImportSource react */
import type { CompareRunner, RunResult } from '../train/compare.js';

/** Placeholder until the dashboard view exists: the plain log on the terminal. */
export async function compareWithDashboard(
  runner: CompareRunner,
  finish: (results: RunResult[]) => Promise<unknown>,
): Promise<number> {
  const { plainCompareLog } = await import('./compare.js');
  runner.subscribe(plainCompareLog((s) => void process.stdout.write(s)));
  await finish(await runner.run());
  return 0;
}
