// Coded errors. A UserError is something a person can fix: one line plus the next step.
// Anything else is an internal failure: logged in full, shown to the person as one masked line.

export type ErrorCode =
  | 'bad_input'
  | 'unknown_command'
  | 'unknown_node'
  | 'forbidden'
  | 'config'
  | 'precondition'
  | 'busy'
  | 'not_found'
  | 'prerequisite'
  | 'internal';

export class UserError extends Error {
  constructor(
    message: string,
    readonly next: string = '',
    readonly code: ErrorCode = 'bad_input',
  ) {
    super(message);
    this.name = 'UserError';
  }

  /** The one line a person sees. */
  get line(): string {
    return this.next ? `${this.message} — ${this.next}` : this.message;
  }
}

export function isUserError(e: unknown): e is UserError {
  return e instanceof UserError;
}

/** Wrap anything thrown into a message fit for one line. */
export function errorLine(e: unknown): string {
  if (isUserError(e)) return e.line;
  if (e instanceof Error) return e.message.split('\n')[0];
  return String(e);
}
