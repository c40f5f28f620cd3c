// bin/charlm runs from any folder, where tsx finds no tsconfig: name the JSX runtime here too.
/* @jsxRuntime automatic */
/* @jsxImportSource react */
import { Box, Text } from 'ink';
import { useMemo, type ReactNode } from 'react';
import type { EvalEvent, StartEvent, StepEvent } from '../train/events.js';
import { lineChart, type ChartLine } from './chart.js';
import type { DashboardState, LiveSample, LossSeries } from './dashboard-state.js';
import { bytes, compact, count, duration, fixed, learningRate } from './format.js';
import { describeTopK, type SamplingSettings } from './sampling.js';
import { tailLines } from './text.js';

export const TRAIN_COLOR = 'cyan';
export const VAL_COLOR = 'yellow';
export const BEST_COLOR = 'greenBright';
export const BEST_GLYPH = '◆';

/** One line that never wraps: a wrapped line would make the frame taller than its budget. */
export function Line({ children, color, dimColor, bold }: { children: ReactNode; color?: string; dimColor?: boolean; bold?: boolean }) {
  return (
    <Text wrap="truncate-end" color={color} dimColor={dimColor} bold={bold}>
      {children}
    </Text>
  );
}

export function Header({ start }: { start: StartEvent | null }) {
  if (!start) {
    return (
      <Box flexDirection="column" height={2}>
        <Line bold>charlm</Line>
        <Line dimColor>loading the corpus and choosing a backend…</Line>
      </Box>
    );
  }
  const m = start.model;
  const model = `${m.cell.toUpperCase()} ${m.layers}×${m.hidden}, ${m.embed > 0 ? `embed ${m.embed}` : 'one-hot input'}`;
  // Two lines at 80 columns: what is trained on what, then size, seed and what runs it (the backend's detail is the part that may be cut).
  return (
    <Box flexDirection="column" height={2}>
      <Line>
        <Text bold color="magentaBright">
          charlm
        </Text>
        {`  ${start.corpus} (${bytes(start.corpusBytes)}) · vocab ${start.vocabSize} · ${model} · batch ${start.batch}×${start.seq}`}
      </Line>
      <Line>
        {`${count(start.params)} params · seed ${start.seed} · `}
        <Text dimColor>{`backend ${start.backend}`}</Text>
      </Line>
    </Box>
  );
}

export function Progress({ start, last, width, budgetMinutes }: { start: StartEvent | null; last: StepEvent | null; width: number; budgetMinutes: number | null }) {
  const total = start?.totalSteps ?? null;
  const step = last?.step ?? start?.step ?? 0;
  const elapsed = last ? last.elapsedMs / 1000 : null;
  // The trainer's throughput is already smoothed over the last ~10 steps; ETA follows it rather than the last step's jitter.
  const stepsPerSec = last && start ? last.charsPerSec / (start.batch * start.seq) : null;
  let fraction: number | null = null;
  let eta: number | null = null;
  if (total !== null && total > 0) {
    fraction = step / total;
    eta = stepsPerSec ? (total - step) / stepsPerSec : null;
  } else if (budgetMinutes !== null && elapsed !== null) {
    fraction = elapsed / (budgetMinutes * 60);
    eta = budgetMinutes * 60 - elapsed;
  }
  if (fraction !== null) fraction = Math.min(1, Math.max(0, fraction));
  const epochs = start && start.windowsPerEpoch > 0 ? step / start.windowsPerEpoch : null;
  const epochText = epochs === null ? '' : ` · epoch ${epochs.toFixed(2)}${total !== null && start ? `/${(total / start.windowsPerEpoch).toFixed(total % start.windowsPerEpoch === 0 ? 0 : 2)}` : ''}`;
  const label = ` step ${count(step)}${total !== null ? `/${count(total)}` : ''}${fraction !== null ? ` ${(fraction * 100).toFixed(1)}%` : ''}${epochText}`;
  const barWidth = Math.max(10, width - label.length - 2);
  const filled = fraction === null ? 0 : Math.round(fraction * barWidth);
  return (
    <Box flexDirection="column" height={2}>
      <Line>
        <Text color="gray">▕</Text>
        <Text color="green">{'█'.repeat(filled)}</Text>
        <Text color="gray">{'░'.repeat(barWidth - filled)}</Text>
        <Text color="gray">▏</Text>
        {label}
      </Line>
      <Line>
        {`elapsed ${duration(elapsed)} · ETA ${duration(eta)} · ${last ? compact(last.charsPerSec) : '—'} chars/s · ${stepsPerSec === null ? '—' : stepsPerSec.toFixed(stepsPerSec < 10 ? 2 : 1)} steps/s`}
      </Line>
    </Box>
  );
}

function ChartLines({ lines }: { lines: readonly ChartLine[] }) {
  return (
    <>
      {lines.map((line, i) => (
        <Line key={i}>
          {line.map((cell, j) => (
            <Text key={j} color={cell.color}>
              {cell.text}
            </Text>
          ))}
        </Line>
      ))}
    </>
  );
}

export function LossChart({ train, val, best, width, rows, version }: { train: LossSeries; val: LossSeries; best: EvalEvent | null; width: number; rows: number; version: number }) {
  // The series grow in place; `version` (their lengths) is what changes when there is something new to draw.
  const chart = useMemo(
    () =>
      lineChart({
        width,
        height: rows,
        series: [
          { xs: train.steps, ys: train.losses, color: TRAIN_COLOR, average: true },
          { xs: val.steps, ys: val.losses, color: VAL_COLOR },
        ],
        marker: best ? { x: best.step, y: best.valLoss, glyph: BEST_GLYPH, color: BEST_COLOR } : null,
        formatX: (x) => `step ${count(x)}`,
      }),
    [train, val, best, width, rows, version],
  );
  return (
    <Box flexDirection="column" width={width} height={rows + 3}>
      <Line>
        <Text bold>loss</Text>
        <Text dimColor> nats/char </Text>
        <Text color={TRAIN_COLOR}> ━ train</Text>
        <Text color={VAL_COLOR}> ━ val</Text>
        {best ? <Text color={BEST_COLOR}>{` ${BEST_GLYPH} best val`}</Text> : null}
      </Line>
      <ChartLines lines={chart.lines} />
    </Box>
  );
}

function Metric({ name, value, color, note }: { name: string; value: string; color?: string; note?: ReactNode }) {
  return (
    <Line>
      <Text dimColor>{name.padEnd(11)}</Text>
      <Text color={color}>{value}</Text>
      {note}
    </Line>
  );
}

export function Metrics({ state, width, height }: { state: DashboardState; width: number; height: number }) {
  const { last, lastEval, best } = state;
  const bestMark = lastEval?.best ? <Text color={BEST_COLOR}>{` ${BEST_GLYPH} best`}</Text> : null;
  return (
    <Box flexDirection="column" width={width} height={height} paddingLeft={2} overflow="hidden">
      <Line bold>metrics</Line>
      <Metric name="train loss" value={fixed(last?.loss, 4)} color={TRAIN_COLOR} />
      <Metric name="val loss" value={fixed(lastEval?.valLoss, 4)} color={VAL_COLOR} note={bestMark} />
      <Metric name="val ppl" value={fixed(lastEval?.valPpl, 2)} />
      <Metric name="val bpc" value={fixed(lastEval?.valBpc, 3)} />
      <Metric
        name="best val"
        value={best ? fixed(best.valLoss, 4) : '—'}
        color={BEST_COLOR}
        note={best ? <Text dimColor>{` @ ${count(best.step)}`}</Text> : null}
      />
      <Metric name="learn rate" value={last ? learningRate(last.lr) : '—'} />
      <Metric name="grad norm" value={fixed(last?.gradNorm, 3)} />
    </Box>
  );
}

export function SamplePane({ sample, settings, sampleEvery, width, rows }: { sample: LiveSample | null; settings: SamplingSettings; sampleEvery: number; width: number; rows: number }) {
  const lines = useMemo(() => tailLines([{ text: sample?.text ?? '', kind: 'generated' }], width - 1, rows), [sample?.text, width, rows]);
  const title = sample ? `sample @ step ${count(sample.step)}${sample.onDemand ? ' (on demand)' : ''}${sample.seed !== null ? ` · seed ${sample.seed}` : ''}` : 'sample';
  const hint = sampleEvery > 0 ? `The first sample comes at step ${count(sampleEvery)}; r samples now.` : 'r samples from the current weights.';
  return (
    <Box flexDirection="column" height={rows + 1}>
      <Line>
        <Text bold>{title}</Text>
        <Text dimColor>{` · temperature `}</Text>
        <Text color="magentaBright" bold>
          {settings.temperature.toFixed(2)}
        </Text>
        <Text dimColor>{` · top-k `}</Text>
        <Text color="magentaBright" bold>
          {describeTopK(settings.topK)}
        </Text>
        {sample?.streaming ? <Text color="green"> ● streaming</Text> : null}
      </Line>
      {sample ? null : <Line dimColor>{hint}</Line>}
      {lines.map((line, i) => (
        <Line key={i}>
          {line.map((r) => r.text).join('')}
          {sample?.streaming && i === lines.length - 1 ? <Text color="green">▍</Text> : null}
        </Line>
      ))}
    </Box>
  );
}

export interface KeyHelp {
  readonly key: string;
  readonly what: string;
}

/** The keys, always on screen; drops descriptions before keys when the line is short. */
export function KeyFooter({ keys, width }: { keys: readonly KeyHelp[]; width: number }) {
  const full = keys.map((k) => `${k.key} ${k.what}`).join('  ');
  const short = full.length <= width;
  return (
    <Line>
      {keys.map((k, i) => (
        <Text key={k.key}>
          {i > 0 ? (short ? '  ' : ' ') : ''}
          <Text bold color="cyanBright">
            {k.key}
          </Text>
          {short ? <Text dimColor>{` ${k.what}`}</Text> : <Text dimColor>{` ${k.what.split(' ')[0]}`}</Text>}
        </Text>
      ))}
    </Line>
  );
}

export function HelpOverlay({ keys, height, width }: { keys: readonly (KeyHelp & { long: string })[]; height: number; width: number }) {
  return (
    <Box flexDirection="column" borderStyle="round" borderColor="cyan" paddingX={1} height={height} width={width} overflow="hidden">
      <Line bold>keys (? closes)</Line>
      {keys.map((k) => (
        <Line key={k.key}>
          <Text bold color="cyanBright">
            {k.key.padEnd(8)}
          </Text>
          {k.long}
        </Line>
      ))}
    </Box>
  );
}
