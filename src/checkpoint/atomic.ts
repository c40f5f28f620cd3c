import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { CheckpointError } from './errors.js';
import { describeIoError, errorCode } from './io-errors.js';

/**
 * Replaces `path` with `data` so that a reader (or a crash, or a power cut)
 * sees either the old file or the complete new one, never a partial file:
 * write a temp file in the same folder (rename is atomic only within one file
 * system), fsync it, rename it over the target, then fsync the folder so the
 * rename itself is on disk.
 *
 * Hand-written rather than write-file-atomic 7.0.x, which fsyncs the temp file
 * but not the folder after the rename, and writes with a single fs.write call
 * that does not retry a short write.
 *
 * The temp name is hidden and ends in .tmp (git-ignored); one is left behind
 * only if the process is killed mid-write. A symlink at `path` is replaced,
 * not followed.
 */
export async function writeFileAtomic(path: string, data: Uint8Array): Promise<void> {
  const target = resolve(path);
  const folder = dirname(target);
  const temp = join(folder, `.${basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  let handle: FileHandle | undefined;
  try {
    // 'wx': never reuse a file someone else created under the temp name.
    handle = await open(temp, 'wx', 0o644);
    await handle.writeFile(data);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(temp, target);
  } catch (cause) {
    await handle?.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    throw new CheckpointError(`Cannot write ${path}: ${describeIoError(cause)}.`, { file: path, cause });
  }
  await syncFolder(folder, path);
}

/** Makes the last renames and links in `folder` durable; `path` names the file in the error sentence. */
export async function syncFolder(folder: string, path: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(folder, 'r');
    await handle.sync();
  } catch (cause) {
    // Some file systems cannot fsync a folder; the file itself is already synced and in place.
    if (!['EINVAL', 'ENOTSUP', 'EISDIR', 'EPERM', 'EACCES'].includes(errorCode(cause) ?? '')) {
      throw new CheckpointError(`Wrote ${path} but could not flush its folder to disk: ${describeIoError(cause)}.`, { file: path, cause });
    }
  } finally {
    await handle?.close().catch(() => undefined);
  }
}
