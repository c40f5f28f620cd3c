// bin/charlm runs from any folder, where tsx finds no tsconfig: name the JSX runtime here too.
/* @jsxRuntime automatic */
/* @jsxImportSource react */
import { Box, Text, useApp, useInput, useStdin } from 'ink';
import { useEffect, useMemo, useSyncExternalStore } from 'react';
import type { CompareEvent, ReportRow, RunPlan, RunResult } from '../train/compare.js';
import type { StepEvent } from '../train/events.js';
import { lineChart } from './chart.js';
import { Line } from './dashboard-panels.js';
import { compact, count, duration, fixed } from './format.js';
import { Store } from './store.js';
import { useTerminalSize, type TerminalSize } from './use-terminal-size.js';

/** One colour per cell × tokenizer, in plan order; seeds of one share it (as in report.svg). */
export const COMPARE_COLORS = ['cyan', 'magentaBright', 'yellow', 'greenBright', 'blueBright', 'redBright', 'white', 'gray'];

export type CompareViewEvent =
  | CompareEvent
  | { readonly event: 'report'; readonly rows: readonly ReportRow[]; readonly out: string }
  | { readonly event: 'stopping' };

type Finished = Omit<RunResult, 'curve'>;

export interface CompareViewState {
  readonly corpus: string | null;
  readonly backend: string | null;
  readonly plans: readonly RunPlan[];
  /** Validation bits per byte by step, per run id. */
  readonly curves: Readonly<Record<string, { readonly steps: readonly number[]; readonly values: readonly number[] }>>;
  readonly current: { readonly run: string; readonly totalSteps: number | null; readonly last: StepEvent | null } | null;
  readonly finished: readonly Finished[];
  readonly report: { readonly rows: readonly ReportRow[]; readonly out: string } | null;
  readonly stopping: boolean;
}

export const INITIAL_COMPARE_STATE: CompareViewState = { corpus: null, backend: null, plans: [], curves: {}, current: null, finished: [], report: null, stopping: false };

export function reduceCompare(s: CompareViewState, e: CompareViewEvent): CompareViewState {
  switch (e.event) {
    case 'compare-start':
      return { ...s, corpus: e.corpus, backend: e.backend, plans: e.runs };
    case 'run-start':
      return { ...s, current: { run: e.run, totalSteps: e.totalSteps, last: null } };
    case 'step':
      return s.current && s.current.run === e.run ? { ...s, current: { ...s.current, last: e } } : s;
    case 'eval': {
      const c = s.curves[e.run] ?? { steps: [], values: [] };
      return { ...s, curves: { ...s.curves, [e.run]: { steps: [...c.steps, e.step], values: [...c.values, e.valBitsPerByte] } } };
    }
    case 'run-done': {
      const { curve: _curve, event: _event, ...done } = e;
      return { ...s, current: null, finished: [...s.finished, done] };
    }
    case 'report':
      return { ...s, report: { rows: e.rows, out: e.out } };
    case 'stopping':
      return { ...s, stopping: true };
    default:
      return s;
  }
}

export function createCompareStore(notifyEveryMs: number): Store<CompareViewState, CompareViewEvent> {
  return new Store(INITIAL_COMPARE_STATE, reduceCompare, notifyEveryMs);
}

function colorOf(plans: readonly RunPlan[], run: string): string {
  const keys = [...new Set(plans.map((p) => `${p.cell} ${p.tokenizer}`))];
  const p = plans.find((x) => x.id === run);
  return COMPARE_COLORS[Math.max(0, keys.indexOf(p ? `${p.cell} ${p.tokenizer}` : '')) % COMPARE_COLORS.length];
}

/**
 * The comparison on one screen: every run's validation curve overlaid in its
 * colour with a legend, the table of finished runs, and the run in progress.
 * It leaves by itself once the report is written.
 */
export function CompareView({ store, onStop, size: fixedSize }: { store: Store<CompareViewState, CompareViewEvent>; onStop: (why: 'quit' | 'interrupt') => void; size?: TerminalSize }) {
  const s = useSyncExternalStore(store.subscribe, store.getSnapshot);
  const size = useTerminalSize(fixedSize);
  const { exit } = useApp();
  const { isRawModeSupported } = useStdin();
  useEffect(() => {
    if (s.report) exit();
  }, [s.report, exit]);
  useInput(
    (input, key) => {
      if (input === 'q') onStop('quit');
      else if (key.ctrl && input === 'c') onStop('interrupt');
    },
    { isActive: isRawModeSupported === true },
  );
  const width = Math.max(40, size.columns);
  // Header 2, legend 1, current 2, table header 1 + one row per run, keys 1, chart axis 2.
  const tableRows = s.plans.length;
  const chartRows = Math.max(3, size.rows - 1 - (2 + 1 + 2 + 1 + tableRows + 1 + 2));
  const chart = useMemo(
    () =>
      lineChart({
        width,
        height: chartRows,
        series: s.plans.filter((p) => s.curves[p.id]).map((p) => ({ xs: s.curves[p.id].steps, ys: s.curves[p.id].values, color: colorOf(s.plans, p.id) })),
        formatY: (y) => y.toFixed(2),
      }),
    [s.curves, s.plans, width, chartRows],
  );
  const done = new Map(s.finished.map((f) => [f.run, f]));
  const best = s.report?.rows.find((r) => r.best);
  return (
    <Box flexDirection="column" width={width}>
      <Line>
        <Text bold color="magentaBright">
          charlm compare
        </Text>
        {`  ${s.corpus ?? 'loading…'} · ${s.plans.length} runs · val bits/byte by step`}
      </Line>
      <Line dimColor>{`backend ${s.backend ?? '…'}`}</Line>
      {chart.lines.map((line, i) => (
        <Line key={i}>
          {line.map((c, j) => (
            <Text key={j} color={c.color}>
              {c.text}
            </Text>
          ))}
        </Line>
      ))}
      <Line>
        {[...new Map(s.plans.map((p) => [`${p.cell} ${p.tokenizer}`, p])).values()].map((p) => (
          <Text key={p.id} color={colorOf(s.plans, p.id)}>{`━ ${p.cell}${p.tokenizer === 'char' ? '' : ` ${p.tokenizer}`} (h${p.model.hidden})  `}</Text>
        ))}
      </Line>
      <Line bold>{`${'run'.padEnd(26)}${'params'.padStart(9)}${'bits/byte'.padStart(11)}${'bpc'.padStart(9)}${'chars/s'.padStart(9)}${'wall'.padStart(8)}`}</Line>
      {s.plans.map((p) => {
        const f = done.get(p.id);
        const running = s.current?.run === p.id;
        const status = f ? (f.error ? 'failed' : '') : running ? 'running' : 'waiting';
        const text = f && !f.error
          ? `${fixed(f.valBitsPerByte, 4).padStart(11)}${fixed(f.valBpc, 4).padStart(9)}${compact(f.charsPerSec ?? NaN).padStart(9)}${duration(f.wallMs / 1000).padStart(8)}`
          : `  ${status}`;
        return (
          <Line key={p.id} dimColor={!f && !running} color={colorOf(s.plans, p.id)}>
            {`${p.id.padEnd(26)}${count(p.params).padStart(9)}${text}`}
          </Line>
        );
      })}
      <Current s={s} />
      <Line dimColor>
        {s.report
          ? `report in ${s.report.out}${best ? ` · best ${best.cell} ${best.tokenizer}` : ''}`
          : s.stopping
            ? 'stopping: finishing the step in progress, then writing the report of the finished runs…'
            : 'q stop (the finished runs are reported) · Ctrl-C the same'}
      </Line>
    </Box>
  );
}

function Current({ s }: { s: CompareViewState }) {
  if (!s.current) return <Box height={2} />;
  const plan = s.plans.find((p) => p.id === s.current!.run);
  const last = s.current.last;
  const total = s.current.totalSteps;
  const eta = last && total !== null ? ((total - last.step) * last.elapsedMs) / Math.max(1, last.step) / 1000 : null;
  return (
    <Box flexDirection="column" height={2}>
      <Line color={plan ? colorOf(s.plans, plan.id) : undefined}>
        {`▶ run ${(plan?.index ?? 0) + 1}/${s.plans.length} ${s.current.run} · ${plan?.cell ?? ''} hidden ${plan?.model.hidden ?? ''} · seed ${plan?.seed ?? ''}`}
      </Line>
      <Line>
        {last
          ? `  step ${last.step}${total === null ? '' : `/${total}`} · loss ${last.loss.toFixed(4)} · ${compact(last.charsPerSec)} tokens/s · elapsed ${duration(last.elapsedMs / 1000)}${eta === null ? '' : ` · left ${duration(eta)}`}`
          : '  compiling kernels…'}
      </Line>
    </Box>
  );
}
