/**
 * Row and column budgets for the dashboard. The frame is kept one row shorter
 * than the terminal: Ink redraws a frame as tall as the terminal by clearing
 * the whole screen, which flickers on every step.
 */
export interface DashboardLayout {
  readonly width: number;
  readonly height: number;
  /** Plot rows of the loss chart (its legend and axis come on top). */
  readonly chartRows: number;
  /** Lines of sample text. */
  readonly sampleRows: number;
  /** Width of the metrics column beside the chart; 0 when the terminal is too narrow for one. */
  readonly metricsWidth: number;
}

/** Header 2, progress 2, chart legend + axis + labels 3, sample title 1, status + keys 2. */
export const FIXED_ROWS = 10;

export function dashboardLayout(columns: number, rows: number): DashboardLayout {
  const width = Math.max(40, columns);
  const height = Math.max(FIXED_ROWS + 4, rows - 1);
  const free = height - FIXED_ROWS;
  const sampleRows = Math.min(12, Math.max(2, Math.round(free * 0.4)));
  const chartRows = Math.max(2, free - sampleRows);
  const metricsWidth = width >= 100 ? 30 : width >= 60 ? 26 : 0;
  return { width, height, chartRows, sampleRows, metricsWidth };
}
