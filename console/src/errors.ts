/** A refused request: answered with its HTTP status and a stable code as `{error: {code, message}}`, never a stack trace. */
export class ConsoleError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** per form field (item id or eventTime): the problem to show next to it */
    readonly fields?: Record<string, string>,
    /** seconds, for 429 answers */
    readonly retryAfter?: number,
  ) {
    super(message);
  }
}
