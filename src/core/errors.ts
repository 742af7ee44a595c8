/** Error codes the core reports for requests it cannot complete. */
export type CoreErrorCode =
  | 'NOT_LEADER'
  | 'NO_LEADER'
  | 'TIMEOUT'
  | 'LEADERSHIP_LOST'
  | 'NOT_VOTER'
  | 'TRANSFER_IN_PROGRESS'
  | 'TRANSFER_FAILED'
  | 'CHANGE_IN_PROGRESS'
  | 'REMOVED'
  | 'INVALID_ARGUMENT';

/** An error with a stable string `code` for programs to branch on. */
export class RaftError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'RaftError';
    this.code = code;
  }
}

/** Raised when a caller breaks an invariant of the core (a bug, not bad input). */
export class InvariantError extends Error {
  constructor(message: string) {
    super(`webraft invariant violated: ${message}`);
    this.name = 'InvariantError';
  }
}
