import { open, readFile, truncate } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { CheckpointError } from './errors.js';
import { describeIoError, errorCode } from './io-errors.js';

/** Beside the checkpoints in a run folder: every step and evaluation of the run, one JSON object per line. */
export const HISTORY_FILE = 'history.jsonl';

/** A line of the history: at least the event's name and its step; the rest is the event as `--json` prints it. */
export interface HistoryRecord {
  readonly event: string;
  readonly step: number;
}

/** A record read back, with whatever other fields its line held. */
export type StoredRecord = HistoryRecord & Readonly<Record<string, unknown>>;

/**
 * Appends records to a run folder's history. Not fsynced: it is a log for
 * re-plotting, not state to resume from, and a kill loses at most the lines
 * the next run would write again. The file is created with the first record,
 * so a run that never steps leaves its folder as it found it.
 */
export class HistoryWriter {
  private handle: FileHandle | null = null;

  private constructor(readonly path: string) {}

  /**
   * Opens the history of `dir` for a run that starts at `fromStep`. Lines past
   * that step (a killed run got further than its last checkpoint) and a torn
   * last line are cut off, so the resumed run continues the file where its
   * checkpoint stands and every line stays whole.
   */
  static async open(dir: string, fromStep: number): Promise<HistoryWriter> {
    const writer = new HistoryWriter(join(dir, HISTORY_FILE));
    let text: Buffer;
    try {
      text = await readFile(writer.path);
    } catch (e) {
      if (errorCode(e) === 'ENOENT') return writer;
      throw writer.failure(e);
    }
    const keep = keptLength(text, fromStep);
    if (keep < text.length) await truncate(writer.path, keep).catch((e: unknown) => Promise.reject(writer.failure(e)));
    return writer;
  }

  async append(record: HistoryRecord): Promise<void> {
    try {
      this.handle ??= await open(this.path, 'a', 0o644);
      await this.handle.write(`${JSON.stringify(record)}\n`);
    } catch (e) {
      throw this.failure(e);
    }
  }

  async close(): Promise<void> {
    await this.handle?.close().catch(() => undefined);
    this.handle = null;
  }

  private failure(cause: unknown): CheckpointError {
    return new CheckpointError(`Cannot write ${this.path}: ${describeIoError(cause)}.`, { file: this.path, cause });
  }
}

/** Bytes of `text` made of whole lines whose step is at most `fromStep`. */
function keptLength(text: Buffer, fromStep: number): number {
  let kept = 0;
  let start = 0;
  for (let nl = text.indexOf(10); nl >= 0; nl = text.indexOf(10, start)) {
    const record = parseRecord(text.subarray(start, nl).toString('utf8'));
    if (record === null || record.step > fromStep) break;
    start = nl + 1;
    kept = start;
  }
  return kept;
}

/**
 * The records of a history file. A line that is not a whole record (the last
 * line of a run killed while writing it) is skipped rather than refused: the
 * rest of the curve is still worth plotting.
 */
export async function readHistory(path: string): Promise<StoredRecord[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const why = errorCode(e) === 'ENOENT' ? 'there is no such file' : describeIoError(e);
    throw new CheckpointError(`Cannot read the run history ${path}: ${why}.`, { file: path, cause: e });
  }
  const records: StoredRecord[] = [];
  for (const line of text.split('\n')) {
    const record = parseRecord(line);
    if (record) records.push(record);
  }
  return records;
}

function parseRecord(line: string): StoredRecord | null {
  if (line.trim() === '') return null;
  try {
    const v = JSON.parse(line) as Record<string, unknown> | null;
    if (typeof v !== 'object' || v === null || typeof v.event !== 'string' || !Number.isSafeInteger(v.step)) return null;
    return v as StoredRecord;
  } catch {
    return null;
  }
}
