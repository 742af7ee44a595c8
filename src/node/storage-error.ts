/** Why a storage operation failed. */
export type StorageErrorCode =
  /** The files on disk are damaged somewhere other than an unacknowledged tail. */
  | 'STORAGE_CORRUPT'
  /** `save()` was given an update that does not fit the stored log (a hole). */
  | 'STORAGE_INVALID_UPDATE'
  /** The storage was used before `load()` or after `close()`. */
  | 'STORAGE_CLOSED'
  /** An earlier write failed: the state on disk is unknown, no further save is accepted. */
  | 'STORAGE_FAILED';

/** An error raised by a durable storage, with a string `code` to branch on. */
export class StorageError extends Error {
  override readonly name = 'StorageError';
  readonly code: StorageErrorCode;

  constructor(code: StorageErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** True when `error` is a StorageError (optionally with the given code). */
export function isStorageError(error: unknown, code?: StorageErrorCode): error is StorageError {
  return error instanceof StorageError && (code === undefined || error.code === code);
}
