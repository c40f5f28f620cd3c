import { link, open, readdir, readFile, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { syncFolder, writeFileAtomic } from './atomic.js';
import { CheckpointError } from './errors.js';
import { describeIoError, errorCode } from './io-errors.js';
import { MAX_HEADER_BYTES } from './safetensors.js';

/** How many checkpoints a run folder keeps: the newest `keepLast` saves and the `keepBest` lowest validation losses. */
export interface RetentionPolicy {
  readonly keepLast: number;
  readonly keepBest: number;
}

export const DEFAULT_RETENTION: RetentionPolicy = Object.freeze({ keepLast: 1, keepBest: 1 });

export const LATEST_FILE = 'latest.safetensors';
export const BEST_FILE = 'best.safetensors';

/** The name a retained older checkpoint keeps: its step, zero-padded so names sort by step. */
export function stepFileName(step: number): string {
  return `step-${String(step).padStart(6, '0')}.safetensors`;
}
const STEP_FILE = /^step-(\d{6,})\.safetensors$/;

/** An evaluation as the run's progress records it; ranks the runners-up to best. */
export interface Evaluated {
  readonly step: number;
  readonly valLoss: number;
}

/**
 * The checkpoint files of one run folder. `latest.safetensors` is always the
 * newest save and `best.safetensors` the lowest validation loss, so
 * `sample run/latest.safetensors` and `run/best.safetensors` keep working; every
 * other checkpoint kept is `step-000500.safetensors`: the keepLast − 1 saves
 * before latest, and the keepBest − 1 runners-up to best.
 *
 * A file about to be replaced that must be kept is hard-linked (copied where
 * links are not possible) to its step name first, the new file is written
 * atomically, and only then are step files that fell out of the policy removed,
 * so a kill at any moment leaves at least the files the policy keeps.
 */
export class CheckpointFiles {
  readonly latestPath: string;
  readonly bestPath: string;

  private constructor(
    readonly dir: string,
    private readonly policy: RetentionPolicy,
    private latestStep: number | null,
    private bestStep: number | null,
  ) {
    this.latestPath = join(dir, LATEST_FILE);
    this.bestPath = join(dir, BEST_FILE);
  }

  /** The files of `dir` as they are now (a resumed run finds its latest and best there). */
  static async open(dir: string, policy: RetentionPolicy): Promise<CheckpointFiles> {
    return new CheckpointFiles(dir, policy, await storedStep(join(dir, LATEST_FILE)), await storedStep(join(dir, BEST_FILE)));
  }

  /**
   * Writes the checkpoint of `step` as latest or best through `write` (an
   * atomic write to the path it is given) and applies the policy; `evals` is
   * the run's evaluation history including this step's. Returns the path written.
   */
  async save(kind: 'latest' | 'best', step: number, write: (path: string) => Promise<void>, evals: readonly Evaluated[]): Promise<string> {
    const target = kind === 'latest' ? this.latestPath : this.bestPath;
    const displaced = kind === 'latest' ? this.latestStep : this.bestStep;
    const latestAfter = kind === 'latest' ? step : this.latestStep;
    const bestAfter = kind === 'best' ? step : this.bestStep;
    const existing = await this.stepFiles();
    const candidates = new Set(existing.keys());
    const moving = displaced !== null && displaced !== step ? displaced : null;
    if (moving !== null) candidates.add(moving);
    const keep = this.wanted(candidates, latestAfter, bestAfter, evals);

    if (moving !== null && keep.has(moving) && !existing.has(moving)) await this.preserve(target, moving);
    await write(target);
    if (kind === 'latest') this.latestStep = step;
    else this.bestStep = step;

    // Only files behind latest: step files ahead of it belong to a branch a resume from an older checkpoint left, and are not this run's to judge.
    for (const [s, name] of existing) {
      if (keep.has(s) || latestAfter === null || s >= latestAfter) continue;
      await unlink(join(this.dir, name)).catch((e: unknown) => {
        if (errorCode(e) !== 'ENOENT') throw new CheckpointError(`Cannot remove ${join(this.dir, name)}: ${describeIoError(e)}.`, { file: name, cause: e });
      });
    }
    return target;
  }

  /** Steps whose step files the policy keeps once latest and best are at `latestAfter` and `bestAfter`. */
  private wanted(candidates: Set<number>, latestAfter: number | null, bestAfter: number | null, evals: readonly Evaluated[]): Set<number> {
    const recent = [...candidates]
      .filter((s) => latestAfter === null || s < latestAfter)
      .sort((a, b) => b - a)
      .slice(0, this.policy.keepLast - 1);
    const runnersUp = [...evals]
      .filter((e) => e.step !== bestAfter && candidates.has(e.step))
      .sort((a, b) => a.valLoss - b.valLoss || a.step - b.step)
      .slice(0, this.policy.keepBest - 1)
      .map((e) => e.step);
    return new Set([...recent, ...runnersUp]);
  }

  private async stepFiles(): Promise<Map<number, string>> {
    const files = new Map<number, string>();
    for (const name of await readdir(this.dir)) {
      const m = STEP_FILE.exec(name);
      if (m) files.set(Number(m[1]), name);
    }
    return files;
  }

  /** Keeps the file at `from` (about to be replaced) under the step name of `step`. */
  private async preserve(from: string, step: number): Promise<void> {
    const to = join(this.dir, stepFileName(step));
    try {
      await link(from, to);
    } catch (e) {
      const code = errorCode(e);
      // Already kept under that name (it was latest and best at once), or gone (someone deleted it): nothing to keep.
      if (code === 'EEXIST' || code === 'ENOENT') return;
      // File systems without hard links (FAT, some network mounts) get a copy, written as atomically as a checkpoint.
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'EMLINK') {
        throw new CheckpointError(`Cannot keep ${from} as ${to}: ${describeIoError(e)}.`, { file: to, cause: e });
      }
      await writeFileAtomic(to, await readFile(from));
      return;
    }
    // The link must be on disk before the rename that replaces `from` is.
    await syncFolder(this.dir, to);
  }
}

/**
 * The step a checkpoint file was saved at, read from its header alone (a
 * checkpoint can be large), or null when there is no such file or it cannot
 * be read as one: such a file is replaced as before, not kept.
 */
async function storedStep(path: string): Promise<number | null> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch {
    return null;
  }
  try {
    const size = Buffer.alloc(8);
    if ((await handle.read(size, 0, 8, 0)).bytesRead !== 8) return null;
    const length = Number(size.readBigUInt64LE(0));
    if (length > MAX_HEADER_BYTES) return null;
    const header = Buffer.alloc(length);
    if ((await handle.read(header, 0, length, 8)).bytesRead !== length) return null;
    const meta = (JSON.parse(header.toString('utf8')) as { __metadata__?: { progress?: string } }).__metadata__;
    const step = (JSON.parse(meta?.progress ?? 'null') as { step?: unknown } | null)?.step;
    return Number.isSafeInteger(step) ? (step as number) : null;
  } catch {
    return null;
  } finally {
    await handle.close().catch(() => undefined);
  }
}
