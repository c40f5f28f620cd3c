/** The errno code of a Node file-system error, if it has one. */
export function errorCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') {
    return error.code;
  }
  return undefined;
}

/** A file-system failure in words a user can act on, for the end of a sentence. */
export function describeIoError(cause: unknown): string {
  switch (errorCode(cause)) {
    case 'ENOENT':
      return 'its folder does not exist';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ENOSPC':
      return 'the disk is full';
    case 'EDQUOT':
      return 'the disk quota is used up';
    case 'EISDIR':
      return 'a folder of that name is in the way';
    case 'ENOTDIR':
      return 'part of its path is a file, not a folder';
    case 'EROFS':
      return 'the file system is read-only';
    default:
      return cause instanceof Error ? cause.message.replace(/\.$/, '') : String(cause);
  }
}
