import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { MatchMode, ReportRow, ScoredRun } from '../../train/compare.js';
import { renderMarkdown } from './markdown.js';
import { renderSvg } from './svg.js';

/** Everything report.json holds; report.md and report.svg are views of it. */
export interface CompareReport {
  readonly corpus: { readonly name: string; readonly source: string; readonly bytes: number };
  readonly backend: string;
  readonly match: MatchMode;
  readonly budget: { readonly steps?: number; readonly minutes?: number };
  readonly model: { readonly layers: number; readonly hidden: number; readonly embed: number };
  readonly training: { readonly batch: number; readonly seq: number; readonly lr: number; readonly evalEvery: number };
  readonly seeds: number;
  readonly bpeEncoding: string;
  /** Validation bits per character that time to target measures to; bpc is null only when no run has a curve. */
  readonly target: { readonly bpc: number | null; readonly requested: boolean };
  readonly createdAt: string;
  /** True when Ctrl-C ended the comparison early: the rows hold only the runs that finished. */
  readonly stopped: boolean;
  readonly rows: readonly ReportRow[];
  readonly runs: readonly ScoredRun[];
}

export const REPORT_FILES = ['report.md', 'report.json', 'report.svg'] as const;

/** Writes the three report files into `dir` and returns their paths. */
export async function writeReport(dir: string, report: CompareReport): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const contents = [renderMarkdown(report, dir), `${JSON.stringify(report, null, 2)}\n`, renderSvg(report)];
  const paths = REPORT_FILES.map((f) => join(dir, f));
  await Promise.all(paths.map((p, i) => writeFile(p, contents[i])));
  return paths;
}
