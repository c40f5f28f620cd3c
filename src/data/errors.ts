/**
 * A problem with the user's data (corpus, vocabulary, split or batch settings).
 * The message is one sentence meant to be shown to the user as is, so the CLI
 * can print it without a stack trace.
 */
export class DataError extends Error {
  override readonly name = 'DataError';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
