// bin/charlm runs from any folder, where tsx finds no tsconfig: name the JSX runtime here too.
/* @jsxRuntime automatic */
/* @jsxImportSource react */
import { Box, Static, Text, useApp, useInput, useStdin } from 'ink';
import { useEffect, useRef, useState, useSyncExternalStore } from 'react';
import {
  HelpOverlay,
  Header,
  KeyFooter,
  Line,
  LossChart,
  Metrics,
  Progress,
  SamplePane,
} from './dashboard-panels.js';
import type { DashboardState, DashboardStore, LogLine, StopReason } from './dashboard-state.js';
import { dashboardLayout } from './layout.js';
import { cooler, nextTopK, warmer, type SamplingSettings } from './sampling.js';
import { useTerminalSize, type TerminalSize } from './use-terminal-size.js';

/** What the dashboard can ask of the run; the CLI wires these to a Trainer and a sampler. */
export interface DashboardControls {
  /** Called on every change, synchronously from the key press, so the sampler's next character uses it. */
  setSampling(settings: SamplingSettings): void;
  resample(): void;
  pause(): void;
  resume(): void;
  save(): void;
  /** Save and end the run; the dashboard leaves once the trainer's `done` arrives. */
  stop(reason: StopReason): void;
}

export interface DashboardProps {
  readonly store: DashboardStore;
  readonly controls: DashboardControls;
  readonly initialSampling: SamplingSettings;
  /** Steps between live samples (0: only on demand), for the empty sample pane's hint. */
  readonly sampleEvery: number;
  /** A time budget, for progress and ETA when there is no step budget. */
  readonly budgetMinutes?: number | null;
  readonly size?: TerminalSize;
}

export const DASHBOARD_KEYS = [
  { key: '+/-', what: 'temperature', long: 'temperature ±0.1 (0.05–2.0); the next sampled character uses it' },
  { key: 'k', what: 'top-k', long: 'top-k: off → 5 → 10 → 40 → off' },
  { key: 'r', what: 'resample', long: 'a new sample from the current weights, now' },
  { key: 'p', what: 'pause', long: 'pause / resume training' },
  { key: 's', what: 'save', long: 'save latest.safetensors now' },
  { key: 'q', what: 'quit', long: 'save latest and quit (Ctrl-C: the same, exit status 130)' },
  { key: '?', what: 'help', long: 'this help' },
] as const;

const TONE: Record<LogLine['tone'], string | undefined> = { info: undefined, good: 'green', warn: 'yellow', error: 'red' };

function StatusLine({ state }: { state: DashboardState }) {
  const latest = state.log.length > 0 ? state.log[state.log.length - 1] : null;
  let badge: [string, string];
  if (state.error) badge = ['✖ error', 'red'];
  else if (state.done) badge = [state.done.stopped ? '■ stopped' : '■ finished', 'green'];
  else if (state.stopping) badge = ['■ stopping: finishing the step, saving latest…', 'yellow'];
  else if (state.saving) badge = ['● saving latest…', 'yellow'];
  else if (state.paused) badge = ['❚❚ paused (p resumes)', 'yellow'];
  else if (state.start) badge = ['● training', 'green'];
  else badge = ['● starting', 'gray'];
  return (
    <Line>
      <Text color={badge[1]} bold>
        {badge[0]}
      </Text>
      {latest ? <Text dimColor>{`  ${latest.text}`}</Text> : null}
    </Line>
  );
}

/**
 * The training dashboard: header, progress, loss chart beside the metrics, the
 * live sample, a status line and the keys. It reads the run from `store` and
 * acts only through `controls`.
 */
export function Dashboard({ store, controls, initialSampling, sampleEvery, budgetMinutes = null, size }: DashboardProps) {
  const state = useSyncExternalStore(store.subscribe, store.getSnapshot);
  const { columns, rows } = useTerminalSize(size);
  const layout = dashboardLayout(columns, rows);
  const [settings, setSettings] = useState(initialSampling);
  // Key presses can arrive faster than renders; each must step from the last value, not the last drawn one.
  const current = useRef(initialSampling);
  const [help, setHelp] = useState(false);
  const { exit } = useApp();
  const { isRawModeSupported } = useStdin();

  useEffect(() => {
    if (state.done) exit();
  }, [state.done, exit]);

  const change = (next: SamplingSettings): void => {
    current.current = next;
    setSettings(next);
    controls.setSampling(next);
  };

  useInput(
    (input, key) => {
      if (key.ctrl && input === 'c') return interrupt();
      if (key.escape) setHelp(false);
      // Keys typed faster than stdin is read (or sent by a script) arrive as one string; each still counts.
      for (const ch of input) press(ch);
    },
    // stdin that is not a terminal cannot be put in raw mode, and Ink throws if asked to (STACK-NOTES.md).
    { isActive: isRawModeSupported === true },
  );

  function interrupt(): void {
    store.dispatch({ event: 'stopping', reason: 'interrupt' });
    controls.stop('interrupt');
  }

  function press(ch: string): void {
    if (ch === '\u0003') return interrupt();
    const s = store.getSnapshot();
    if (s.stopping || s.done) return;
    switch (ch) {
      case '+':
      case '=':
        change(warmer(current.current));
        break;
      case '-':
      case '_':
        change(cooler(current.current));
        break;
      case 'k':
        change(nextTopK(current.current));
        break;
      case 'r':
        controls.resample();
        break;
      case 'p':
        if (s.paused) controls.resume();
        else controls.pause();
        store.dispatch({ event: 'paused', paused: !s.paused });
        break;
      case 's':
        store.dispatch({ event: 'saving' });
        controls.save();
        break;
      case 'q':
        store.dispatch({ event: 'stopping', reason: 'quit' });
        controls.stop('quit');
        break;
      case '?':
        setHelp((h) => !h);
        break;
    }
  }

  const chartHeight = layout.chartRows + 3;
  const chartWidth = layout.width - layout.metricsWidth;
  return (
    <>
      <Static items={state.log as LogLine[]}>
        {(line) => (
          <Text key={line.id} color={TONE[line.tone]} dimColor={line.tone === 'info'}>
            {`· ${line.text}`}
          </Text>
        )}
      </Static>
      <Box flexDirection="column" width={layout.width}>
        <Header start={state.start} />
        <Progress start={state.start} last={state.last} width={layout.width} budgetMinutes={budgetMinutes} />
        <Box height={chartHeight}>
          {help ? (
            <HelpOverlay keys={DASHBOARD_KEYS} height={chartHeight} width={layout.width} />
          ) : (
            <>
              <LossChart
                train={state.train}
                val={state.val}
                best={state.best}
                width={chartWidth}
                rows={layout.chartRows}
                version={state.train.steps.length * 1e6 + state.val.steps.length}
              />
              {layout.metricsWidth > 0 ? <Metrics state={state} width={layout.metricsWidth} height={chartHeight} /> : null}
            </>
          )}
        </Box>
        <SamplePane sample={state.sample} settings={settings} sampleEvery={sampleEvery} width={layout.width} rows={layout.sampleRows} />
        <StatusLine state={state} />
        <KeyFooter keys={DASHBOARD_KEYS} width={layout.width} />
      </Box>
    </>
  );
}
