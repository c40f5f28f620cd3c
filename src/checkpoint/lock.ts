import { randomBytes } from 'node:crypto';
import { readFileSync, rmdirSync, unlinkSync } from 'node:fs';
import { link, mkdir, open, readdir, readFile, rename, rmdir, stat, statfs, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import type { ModelConfig } from '../model/config.js';
import { paramLayout } from '../model/params.js';
import { CheckpointError } from './errors.js';
import { describeIoError, errorCode } from './io-errors.js';

/**
 * Hidden, so a finished run folder lists only its checkpoints; it exists only
 * while a run holds the folder (or after that run was killed with SIGKILL,
 * until the next run finds it stale).
 */
export const LOCK_FILE = '.charlm.lock';

/** What the lock file holds: enough to name the holder and to tell a live holder from a dead one. */
interface LockOwner {
  readonly pid: number;
  readonly host: string;
  /** Kernel start time of the process (Linux), so a recycled pid is not mistaken for the holder. */
  readonly start: string | null;
  readonly since: string;
}

export interface RunFolderLock {
  readonly dir: string;
  readonly path: string;
  /** Removes the lock (and the folder, if this run created it and left it empty); also runs on process exit. */
  release(): void;
}

export interface LockOptions {
  /**
   * Size of one checkpoint file. The folder must have room for `latest`,
   * `best` and the temp file of the next save at once, less what the files
   * already there will give back when they are replaced.
   */
  readonly checkpointBytes?: number;
  /** Checkpoint files the run keeps at once (latest, best and what --keep-last/--keep-best add); 2 when not given. */
  readonly checkpointFiles?: number;
}

/**
 * Makes `dir` the run folder of this process, or refuses with one sentence
 * before any training starts: creates it, proves a file can be written and
 * synced there, checks there is room for the checkpoints, takes the lock, and
 * removes temp files that a killed run left behind.
 *
 * A pid lock file rather than proper-lockfile 4.1.2: that one proves the
 * holder alive by touching the lock every few seconds from a timer, and
 * charlm's CPU backends run kernels synchronously, so a long evaluation would
 * starve the timer and the lock would be declared compromised (by default
 * proper-lockfile then throws); its lock also does not say who holds it. A pid
 * answers "who" at once, and "is it still running" without waiting for a
 * timeout after kill -9.
 */
export async function lockRunFolder(dir: string, options: LockOptions = {}): Promise<RunFolderLock> {
  const created = await makeFolder(dir);
  try {
    await probeWrite(dir);
    if (options.checkpointBytes !== undefined) await checkRoom(dir, options.checkpointBytes, options.checkpointFiles ?? 2);
    const lock = await acquire(dir, created);
    await removeStaleTemps(dir);
    return lock;
  } catch (error) {
    if (created) removeIfEmpty(dir);
    throw error;
  }
}

/** Bytes of one checkpoint of this model: weights and optimizer moments as float32, the carried state, a generous header. */
export function estimateCheckpointBytes(model: ModelConfig, batch: number, optimizer: 'adam' | 'sgd'): number {
  const copies = optimizer === 'adam' ? 3 : 2;
  const state = model.layers * batch * model.hidden * (model.cell === 'lstm' ? 2 : 1);
  return 4 * (paramLayout(model).total * copies + state) + 16 * 1024 + 16 * model.vocabSize;
}

async function makeFolder(dir: string): Promise<boolean> {
  try {
    return (await mkdir(dir, { recursive: true })) !== undefined;
  } catch (error) {
    const cause = errorCode(error) === 'ENOENT' ? await realMkdirError(dir, error) : error;
    const code = errorCode(cause);
    const why =
      code === 'EEXIST'
        ? 'a file of that name is in the way'
        : code === 'ENOTDIR'
          ? 'part of its path is a file, not a folder'
          : describeIoError(cause);
    throw new CheckpointError(`Cannot create the run folder ${dir}: ${why}; choose another --out.`, { file: dir, cause });
  }
}

/**
 * Node's recursive mkdir says ENOENT where the file system is read-only or
 * the folder not writable; making the first missing folder alone tells the
 * real reason.
 */
async function realMkdirError(dir: string, error: unknown): Promise<unknown> {
  let first = dir;
  while (dirname(first) !== first && !(await stat(dirname(first)).then(() => true, () => false))) first = dirname(first);
  try {
    await mkdir(first);
  } catch (e) {
    return e;
  }
  await rmdir(first).catch(() => undefined);
  return error;
}

/** The cheapest honest answer to "can a checkpoint be written here": write one small file, sync it, remove it. */
async function probeWrite(dir: string): Promise<void> {
  const probe = join(dir, `.charlm-probe.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  let handle: FileHandle | undefined;
  try {
    handle = await open(probe, 'wx', 0o644);
    await handle.writeFile(Buffer.alloc(4096, 0x20));
    await handle.sync();
  } catch (cause) {
    throw new CheckpointError(`Cannot write checkpoints into ${dir}: ${describeIoError(cause)}; choose another --out.`, { file: dir, cause });
  } finally {
    await handle?.close().catch(() => undefined);
    await unlink(probe).catch(() => undefined);
  }
}

async function checkRoom(dir: string, checkpointBytes: number, files: number): Promise<void> {
  let free: number;
  try {
    const s = await statfs(dir);
    free = s.bavail * s.bsize;
  } catch {
    // Not every file system answers statfs; the probe write has already shown the folder is writable.
    return;
  }
  const present = await readdir(dir).then(
    (names) => names.filter((n) => n === 'latest.safetensors' || n === 'best.safetensors' || /^step-\d{6,}\.safetensors$/.test(n)).length,
    () => 0,
  );
  // A save writes a temp file next to the file it replaces, so every kept checkpoint and one temp can coexist.
  const needed = checkpointBytes * Math.max(0, files + 1 - present);
  if (free < needed) {
    throw new CheckpointError(
      `Cannot train into ${dir}: its disk has ${size(free)} free but this run's checkpoints need about ${size(needed)}; free some space or choose another --out.`,
      { file: dir },
    );
  }
}

async function acquire(dir: string, created: boolean): Promise<RunFolderLock> {
  const path = join(dir, LOCK_FILE);
  const me: LockOwner = { pid: process.pid, host: hostname(), start: processStart(process.pid), since: new Date().toISOString() };
  const text = `${JSON.stringify(me)}\n`;
  // Written whole under a temp name, then linked: link() fails if the lock exists, so the lock file is never seen half-written.
  const temp = join(dir, `.charlm-lock.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeSynced(temp, text);
    for (let attempt = 0; ; attempt++) {
      try {
        await link(temp, path);
        break;
      } catch (cause) {
        if (errorCode(cause) !== 'EEXIST' || attempt >= 3) throw cause;
      }
      const holder = await readOwner(path);
      if (holder && isRunning(holder)) throw heldBy(dir, path, holder);
      await breakStale(path);
    }
  } catch (cause) {
    if (cause instanceof CheckpointError) throw cause;
    throw new CheckpointError(`Cannot lock the run folder ${dir}: ${describeIoError(cause)}.`, { file: dir, cause });
  } finally {
    await unlink(temp).catch(() => undefined);
  }

  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    process.removeListener('exit', release);
    try {
      // Only our own lock: never remove one that another run took after ours was (wrongly) broken.
      if (readFileSync(path, 'utf8') === text) unlinkSync(path);
    } catch {
      // Already gone: nothing to release.
    }
    if (created) removeIfEmpty(dir);
  };
  // 'exit' runs on return from main, on process.exit (Ctrl-C → 130, errors → 1); only SIGKILL and unhandled signals skip it.
  process.on('exit', release);
  return { dir, path, release };
}

function heldBy(dir: string, path: string, holder: LockOwner): CheckpointError {
  const where = holder.host === hostname() ? '' : ` on ${holder.host}`;
  const advice =
    holder.host === hostname()
      ? 'wait for it to finish or stop it, or choose another --out'
      : `if that run has ended, delete ${path}; otherwise choose another --out`;
  return new CheckpointError(
    `${dir} is in use by another charlm run (process ${holder.pid}${where}, since ${holder.since}); ${advice}.`,
    { file: dir },
  );
}

/**
 * Moves the stale lock aside before deleting it: rename is atomic, so of two
 * runs that both found the same stale lock only one removes it. If what was
 * moved turns out to be a live lock (the other run got there first), it is put
 * back.
 */
async function breakStale(path: string): Promise<void> {
  const aside = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await rename(path, aside);
  } catch (cause) {
    if (errorCode(cause) === 'ENOENT') return;
    throw cause;
  }
  const moved = await readOwner(aside);
  if (moved && isRunning(moved)) await link(aside, path).catch(() => undefined);
  await unlink(aside).catch(() => undefined);
}

async function readOwner(path: string): Promise<LockOwner | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return null;
  }
  try {
    const v = JSON.parse(text) as Partial<LockOwner>;
    if (Number.isSafeInteger(v.pid) && (v.pid as number) > 0 && typeof v.host === 'string') {
      return { pid: v.pid as number, host: v.host, start: typeof v.start === 'string' ? v.start : null, since: String(v.since ?? 'an unknown time') };
    }
  } catch {
    // Fall through: a lock nobody can be named in cannot keep anyone out.
  }
  return null;
}

/** A holder on another machine cannot be checked from here, so it counts as running. */
function isRunning(owner: LockOwner): boolean {
  if (owner.host !== hostname()) return true;
  // Containers restart with the same pids: a lock with our own pid was left by an earlier life of this one.
  if (owner.pid === process.pid) return false;
  try {
    process.kill(owner.pid, 0);
  } catch (e) {
    if (errorCode(e) !== 'EPERM') return false;
  }
  const start = processStart(owner.pid);
  return owner.start === null || start === null || start === owner.start;
}

/** Field 22 of /proc/<pid>/stat; null where there is no /proc. */
function processStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses; the fields after its closing one are plain.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

/**
 * Temp files of killed saves (`.latest.safetensors.<pid>.<hex>.tmp`, see
 * atomic.ts) and of killed probes or lock attempts. Under the lock no other run
 * writes here, but a file is removed only if the process named in it is gone.
 */
async function removeStaleTemps(dir: string): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    const m = /^\..*\.(\d+)\.[0-9a-f]+\.tmp$/.exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || alive(pid)) continue;
    await unlink(join(dir, name)).catch(() => undefined);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return errorCode(e) === 'EPERM';
  }
}

async function writeSynced(path: string, text: string): Promise<void> {
  const handle = await open(path, 'wx', 0o644);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function removeIfEmpty(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // Not empty (a checkpoint was written) or already gone: keep it.
  }
}

function size(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(1)} GB`;
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(1)} MB`;
  return `${Math.ceil(bytes / 1024)} KB`;
}
