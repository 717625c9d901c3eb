import { status as GrpcStatus } from '@grpc/grpc-js';

/**
 * A failed ledger call. `code` is the chaincode's stable error code (`[ERR_X] message`) when the
 * chaincode raised one, else a transport-level code (ERR_ENDORSEMENT, ERR_COMMIT, ERR_UNAVAILABLE …).
 */
export class LedgerError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly details: { transactionId?: string; grpcCode?: number; validationCode?: string; cause?: unknown } = {},
  ) {
    super(message);
    this.name = 'LedgerError';
  }
}

/** `[ERR_X] message` anywhere in text, as both shim 2.5 ("chaincode response 500, …") and 2.3 ("… failure: Error: …") carry it. */
export function parseChaincodeError(text: string): { code: string; message: string } | undefined {
  const m = /\[(ERR_[A-Z0-9_]+)\]\s*([^\n]*)/.exec(text);
  return m ? { code: m[1], message: m[2].trim() } : undefined;
}

/** The chaincode's message from an endorsement error detail, without the peer's prefixes. */
export function chaincodeMessage(text: string): string {
  return text
    .replace(/^chaincode response \d+, /, '')
    .replace(/^error in simulation: transaction returned with failure: /, '')
    .replace(/^(Error|[A-Za-z]+Error): /, '');
}

interface GatewayLikeError {
  message: string;
  code?: number;
  details?: { address?: string; mspId?: string; message: string }[];
  transactionId?: string;
}

/** Maps a fabric-gateway error (EndorseError, SubmitError, CommitError, GatewayError) to a LedgerError. */
export function toLedgerError(e: unknown): LedgerError {
  if (e instanceof LedgerError) return e;
  const err = e as GatewayLikeError;
  // An unreachable peer carries no chaincode error, though its TLS errors may read "[ERR_TLS_…]".
  const texts = err.code === GrpcStatus.UNAVAILABLE ? [] : [...(err.details ?? []).map((d) => d.message), err.message ?? String(e)];
  for (const t of texts) {
    const parsed = parseChaincodeError(t);
    if (parsed) return new LedgerError(parsed.code, parsed.message, { transactionId: err.transactionId, grpcCode: err.code, cause: e });
  }
  const name = (e as Error)?.name;
  const detail = err.details?.[0]?.message;
  const message = detail ? `${err.message} (${detail})` : err.message ?? String(e);
  if (name === 'CommitError') return new LedgerError('ERR_COMMIT', message, { transactionId: err.transactionId, cause: e });
  if (err.code === GrpcStatus.UNAVAILABLE) return new LedgerError('ERR_UNAVAILABLE', message, { grpcCode: err.code, cause: e });
  if (err.code === GrpcStatus.DEADLINE_EXCEEDED) return new LedgerError('ERR_TIMEOUT', message, { grpcCode: err.code, cause: e });
  if (name === 'EndorseError' || err.code === GrpcStatus.ABORTED || err.code === GrpcStatus.UNKNOWN) {
    return new LedgerError('ERR_ENDORSEMENT', detail ? chaincodeMessage(detail) : message, { transactionId: err.transactionId, grpcCode: err.code, cause: e });
  }
  return new LedgerError('ERR_LEDGER', message, { transactionId: err.transactionId, grpcCode: err.code, cause: e });
}
