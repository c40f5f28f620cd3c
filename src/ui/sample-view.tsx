// bin/charlm runs from any folder, where tsx finds no tsconfig: name the JSX runtime here too.
/* @jsxRuntime automatic */
/* @jsxImportSource react */
import { Box, Text, useApp, useInput, useStdin } from 'ink';
import { useMemo, useRef, useState, useSyncExternalStore } from 'react';
import { KeyFooter, Line } from './dashboard-panels.js';
import type { StopReason } from './dashboard-state.js';
import { compact, count } from './format.js';
import type { SampleViewState, SampleViewStore } from './sample-view-state.js';
import { cooler, describeTopK, nextTopK, warmer, type SamplingSettings } from './sampling.js';
import { tailLines } from './text.js';
import { useTerminalSize, type TerminalSize } from './use-terminal-size.js';

export interface SampleViewControls {
  /** Called synchronously from the key press, so the next character drawn uses it. */
  setSampling(settings: SamplingSettings): void;
  pause(): void;
  resume(): void;
  /** A new sample with a new seed. */
  again(): void;
  /** The view leaves right after; `interrupt` is Ctrl-C. */
  quit(reason: StopReason): void;
}

export interface SampleViewInfo {
  readonly checkpoint: string;
  readonly model: string;
  readonly backend: string;
}

export interface SampleViewProps {
  readonly store: SampleViewStore;
  readonly controls: SampleViewControls;
  readonly initialSampling: SamplingSettings;
  /** Shown before the generated text and apart from it: the model read it, it did not write it. */
  readonly prime: string;
  readonly length: number;
  readonly info: SampleViewInfo;
  readonly size?: TerminalSize;
}

export const SAMPLE_KEYS = [
  { key: '+/-', what: 'temperature' },
  { key: 'k', what: 'top-k' },
  { key: 'space', what: 'pause' },
  { key: 'n', what: 'new sample' },
  { key: 'q', what: 'quit' },
] as const;

const PRIME_COLOR = 'cyanBright';

function Status({ state, settings, length }: { state: SampleViewState; settings: SamplingSettings; length: number }) {
  let badge: [string, string];
  if (state.error) badge = [`✖ ${state.error}`, 'red'];
  else if (state.paused) badge = ['❚❚ paused', 'yellow'];
  else if (state.streaming) badge = ['● streaming', 'green'];
  else if (state.seed === null) badge = ['● starting', 'gray'];
  else badge = ['■ done (n: another)', 'green'];
  // The state first: the numbers after it are what a narrow terminal may cut.
  return (
    <Line>
      <Text color={badge[1]} bold>
        {badge[0]}
      </Text>
      <Text dimColor>{'  temperature '}</Text>
      <Text bold color="magentaBright">
        {settings.temperature.toFixed(2)}
      </Text>
      <Text dimColor> · top-k </Text>
      <Text bold color="magentaBright">
        {describeTopK(settings.topK)}
      </Text>
      <Text dimColor>{` · seed ${state.seed ?? '—'} · ${state.charsPerSec === null ? '—' : compact(state.charsPerSec)} chars/s · ${count(state.count)}/${count(length)}`}</Text>
    </Line>
  );
}

/** Text streaming from a checkpoint, with the sampling knobs on keys. */
export function SampleView({ store, controls, initialSampling, prime, length, info, size }: SampleViewProps) {
  const state = useSyncExternalStore(store.subscribe, store.getSnapshot);
  const { columns, rows } = useTerminalSize(size);
  const width = Math.max(20, columns);
  // One row short of the terminal: a frame as tall as the screen makes Ink clear it on every frame.
  const textRows = Math.max(3, rows - 1 - 4);
  const [settings, setSettings] = useState(initialSampling);
  const current = useRef(initialSampling);
  const { exit } = useApp();
  const { isRawModeSupported } = useStdin();

  const change = (next: SamplingSettings): void => {
    current.current = next;
    setSettings(next);
    controls.setSampling(next);
  };
  const quit = (reason: StopReason): void => {
    controls.quit(reason);
    exit();
  };

  /** True once the view is leaving: later keys in the same chunk are moot. */
  const press = (ch: string): boolean => {
    if (ch === '\u0003' || ch === 'q') {
      quit(ch === 'q' ? 'quit' : 'interrupt');
      return true;
    }
    if (ch === '+' || ch === '=') change(warmer(current.current));
    else if (ch === '-' || ch === '_') change(cooler(current.current));
    else if (ch === 'k') change(nextTopK(current.current));
    else if (ch === 'n') controls.again();
    else if (ch === ' ') {
      const s = store.getSnapshot();
      if (s.streaming && s.paused) controls.resume();
      else if (s.streaming) controls.pause();
    }
    return false;
  };

  useInput(
    (input, key) => {
      if (key.ctrl && input === 'c') return quit('interrupt');
      // Keys typed faster than stdin is read (or sent by a script) arrive as one string; each still counts.
      for (const ch of input) if (press(ch)) return;
    },
    { isActive: isRawModeSupported === true },
  );

  const lines = useMemo(
    () =>
      tailLines(
        [
          { text: prime, kind: 'prime' },
          { text: state.text, kind: 'generated' },
        ],
        width - 1,
        textRows,
      ),
    [prime, state.text, width, textRows],
  );

  return (
    <Box flexDirection="column" width={width}>
      <Box flexDirection="column" height={2}>
        <Line>
          <Text bold color="magentaBright">
            charlm sample
          </Text>
          {`  ${info.checkpoint} · ${info.model}`}
          {prime ? <Text color={PRIME_COLOR}>{'  prime in this colour'}</Text> : null}
        </Line>
        <Line dimColor>{`backend ${info.backend}`}</Line>
      </Box>
      <Box flexDirection="column" height={textRows}>
        {lines.map((line, i) => (
          <Line key={i}>
            {line.map((run, j) =>
              run.kind === 'prime' ? (
                <Text key={j} color={PRIME_COLOR} bold>
                  {run.text}
                </Text>
              ) : (
                <Text key={j}>{run.text}</Text>
              ),
            )}
            {state.streaming && i === lines.length - 1 ? <Text color={state.paused ? 'yellow' : 'green'}>▍</Text> : null}
          </Line>
        ))}
      </Box>
      <Status state={state} settings={settings} length={length} />
      <KeyFooter keys={SAMPLE_KEYS} width={width} />
    </Box>
  );
}
