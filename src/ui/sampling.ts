/**
 * The two sampling knobs a person turns with keys, shared by the dashboard and
 * the sampling view so both step and clamp the same way.
 */
export interface SamplingSettings {
  readonly temperature: number;
  /** 0 keeps every symbol. */
  readonly topK: number;
}

export const TEMPERATURE_MIN = 0.05;
export const TEMPERATURE_MAX = 2;
export const TEMPERATURE_STEP = 0.1;
export const TOP_K_CYCLE: readonly number[] = [0, 5, 10, 40];

/** Rounded to hundredths so ten presses of + from 0.8 land on 1.8, not 1.7999999. */
const hundredths = (x: number): number => Math.round(x * 100) / 100;

export function clampTemperature(t: number): number {
  return hundredths(Math.min(TEMPERATURE_MAX, Math.max(TEMPERATURE_MIN, t)));
}

export function warmer(s: SamplingSettings): SamplingSettings {
  return { ...s, temperature: clampTemperature(s.temperature + TEMPERATURE_STEP) };
}

export function cooler(s: SamplingSettings): SamplingSettings {
  return { ...s, temperature: clampTemperature(s.temperature - TEMPERATURE_STEP) };
}

/** Off → 5 → 10 → 40 → off; a top-k not on the cycle (from a flag) moves to the next larger one. */
export function nextTopK(s: SamplingSettings): SamplingSettings {
  const next = TOP_K_CYCLE.find((k) => k > s.topK) ?? TOP_K_CYCLE[0];
  return { ...s, topK: next };
}

export function describeTopK(k: number): string {
  return k > 0 ? String(k) : 'off';
}
