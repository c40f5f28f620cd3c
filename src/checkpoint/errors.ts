/**
 * A checkpoint file that cannot be written or read. The message is one
 * sentence that names the file, meant to be shown to the user as is.
 */
export class CheckpointError extends Error {
  override readonly name = 'CheckpointError';
  /** The file concerned, when there is one (encoding in memory has none). */
  readonly file: string | undefined;

  constructor(message: string, options: { file?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.file = options.file;
  }
}
