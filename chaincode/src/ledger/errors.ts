/** Stable error codes of the chaincode API (DESIGN §4). Clients match on the code, never the text. */
export const ERROR_CODES = [
  'ERR_VALIDATION',
  'ERR_NOT_MEMBER',
  'ERR_FORBIDDEN',
  'ERR_NOT_FOUND',
  'ERR_CONFLICT',
  'ERR_STAGE_ORDER',
  'ERR_CROSS_VALIDATION',
  'ERR_SIGNATURE',
  'ERR_REPLAY',
  'ERR_INSUFFICIENT',
  'ERR_LOCKED',
  'ERR_STATE',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** A rule violation: reaches the client as `[ERR_CODE] message`, and the transaction changes nothing. */
export class ChaincodeError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly detail: string,
  ) {
    super(`[${code}] ${detail}`);
    this.name = 'ChaincodeError';
  }
}

export const fail = (code: ErrorCode, detail: string): never => {
  throw new ChaincodeError(code, detail);
};
