import { setMaxListeners } from 'node:events';
import { CommonClient } from 'tencentcloud-sdk-nodejs-common';
import { chaincodeMessage, LedgerError, parseChaincodeError } from './errors';
import { TokenBucket } from '@trace/token-bucket';

/** TBaaS cloud API version of the Fabric 2.3 actions (InvokeFabricChaincode …). */
export const TBAAS_API_VERSION = '2018-04-16';
export const TBAAS_ENDPOINT = 'tbaas.tencentcloudapi.com';
/** TBaaS's documented limit for each of the Fabric actions. */
export const TBAAS_REQUESTS_PER_SECOND = 20;

export interface TbaasApiOptions {
  secretId: string;
  secretKey: string;
  region: string;
  /** host[:port]; the SDK signs with its first label as the service name (tbaas.… → tbaas) */
  endpoint?: string;
  /** 'https://' (default) or 'http://' (the local emulator) */
  protocol?: 'https://' | 'http://';
  /** client-side requests per second, or false to send unthrottled (tests of the server's limit) */
  rateLimit?: number | false;
  /** retries of throttled, 5xx and network failures, with exponential backoff (default 5) */
  maxRetries?: number;
  /** first backoff delay in ms (default 200), doubled per attempt, capped at 5 s */
  backoffMs?: number;
  /** per-request timeout in seconds (default 60: InvokeFabricChaincode waits for the commit) */
  timeoutSeconds?: number;
  /** structured logger (pino-compatible); retries are logged without credentials */
  log?: { warn(obj: object): void };
}

/**
 * A failed TBaaS call: Tencent's error code (`tencentCode`, e.g. AuthFailure.SignatureFailure) and
 * RequestId, or the HTTP status, on top of the ledger's stable code. A chaincode `[ERR_X]` error
 * that TBaaS returns as FailedOperation keeps the chaincode's code, as over the gateway.
 */
export class TbaasError extends LedgerError {
  constructor(
    code: string,
    message: string,
    readonly tencentCode: string,
    readonly requestId: string,
    readonly httpStatus?: number,
  ) {
    super(code, message);
    this.name = 'TbaasError';
  }
}

/** The ledger code of a Tencent error code that carries no chaincode error. */
function ledgerCode(tencentCode: string, httpStatus?: number): string {
  if (tencentCode.startsWith('AuthFailure')) return 'ERR_AUTH';
  if (tencentCode === 'RequestLimitExceeded') return 'ERR_THROTTLED';
  if (tencentCode === 'ResourceNotFound' || tencentCode.startsWith('ResourceNotFound.')) return 'ERR_TBAAS_NOT_FOUND';
  if (tencentCode.startsWith('InvalidParameter') || tencentCode.startsWith('MissingParameter') || tencentCode === 'InvalidAction') return 'ERR_TBAAS_REQUEST';
  if (tencentCode === 'FailedOperation' || tencentCode.startsWith('FailedOperation.')) return 'ERR_ENDORSEMENT';
  if ((httpStatus ?? 0) >= 500 || tencentCode === 'InternalError' || tencentCode === '') return 'ERR_UNAVAILABLE';
  return 'ERR_TBAAS';
}

interface SdkError {
  message: string;
  code?: string;
  requestId?: string;
  httpCode?: number;
}

/**
 * One TBaaS account's cloud API: TC3-signed calls through the official CommonClient, a client-side
 * token bucket shared by every call of this instance, bounded exponential-backoff retries, and
 * Tencent's error envelope turned into TbaasError. Credentials never reach a message or a log line.
 */
export class TbaasApi {
  private readonly client: CommonClient;
  private readonly bucket?: TokenBucket;
  private readonly secrets: string[];
  /** aborts the calls in flight and the retry waits when the ledger closes */
  private readonly closing = new AbortController();

  constructor(private readonly opts: TbaasApiOptions) {
    if (!opts.secretId || !opts.secretKey) throw new LedgerError('ERR_CONFIG', 'TBaaS needs a SecretId and a SecretKey (TENCENTCLOUD_SECRET_ID / TENCENTCLOUD_SECRET_KEY)');
    if (!opts.region) throw new LedgerError('ERR_CONFIG', 'TBaaS needs a region (e.g. ap-guangzhou)');
    // Redaction of a very short value would mangle messages; real keys are 32+ characters.
    this.secrets = [opts.secretId, opts.secretKey].filter((s) => s.length >= 6);
    this.client = new CommonClient(TBAAS_ENDPOINT, TBAAS_API_VERSION, {
      credential: { secretId: opts.secretId, secretKey: opts.secretKey },
      region: opts.region,
      profile: { httpProfile: { endpoint: opts.endpoint ?? TBAAS_ENDPOINT, protocol: opts.protocol ?? 'https://', reqTimeout: opts.timeoutSeconds ?? 60 } },
    });
    // every call in flight listens on this signal (a block's transactions are looked up concurrently)
    setMaxListeners(0, this.closing.signal);
    const rate = opts.rateLimit ?? TBAAS_REQUESTS_PER_SECOND;
    // Bursts of half the rate leave the server's own bucket room for network jitter.
    if (rate !== false) this.bucket = new TokenBucket(rate, Math.max(1, Math.floor(rate / 2)));
  }

  /**
   * Calls one action; resolves with Response (without RequestId) or throws TbaasError. An action
   * with side effects (InvokeFabricChaincode) is retried only when throttled, which the cloud refuses
   * before running anything; after a 5xx or a network failure its outcome is unknown and resending
   * could commit it twice, so that is reported as ERR_OUTCOME_UNKNOWN.
   */
  async call<T>(action: string, params: object, opts: { sideEffects?: boolean } = {}): Promise<T> {
    const maxRetries = this.opts.maxRetries ?? 5;
    const { signal } = this.closing;
    for (let attempt = 0; ; attempt++) {
      await this.bucket?.take();
      if (signal.aborted) throw new TbaasError('ERR_CLOSED', `${action}: the TBaaS ledger is closed`, '', '');
      try {
        return (await this.client.request(action, params, { signal })) as T;
      } catch (e) {
        if (signal.aborted) {
          // a side effect cut off in flight may or may not have happened
          throw new TbaasError(opts.sideEffects ? 'ERR_OUTCOME_UNKNOWN' : 'ERR_CLOSED', `${action}: the TBaaS ledger was closed during the call`, '', '');
        }
        const err = this.toError(e as SdkError);
        if (opts.sideEffects && err.code === 'ERR_UNAVAILABLE') {
          throw new TbaasError('ERR_OUTCOME_UNKNOWN', `${action} may or may not have run: ${err.message}`, err.tencentCode, err.requestId, err.httpStatus);
        }
        if (attempt >= maxRetries || !['ERR_THROTTLED', 'ERR_UNAVAILABLE'].includes(err.code)) throw err;
        const delayMs = Math.round(Math.min(5_000, (this.opts.backoffMs ?? 200) * 2 ** attempt) * (0.5 + Math.random() / 2));
        this.opts.log?.warn({ event: 'tbaas.retry', action, attempt: attempt + 1, tencentCode: err.tencentCode, httpStatus: err.httpStatus, requestId: err.requestId, delayMs });
        await new Promise<void>((r) => {
          const abort = () => (clearTimeout(t), r());
          // the listener goes with its wait, or a long-lived ledger's signal collects one per retry
          const t = setTimeout(() => (signal.removeEventListener('abort', abort), r()), delayMs);
          signal.addEventListener('abort', abort, { once: true });
        });
      }
    }
  }

  /** Ends the calls in flight (ERR_CLOSED, or ERR_OUTCOME_UNKNOWN for a submit) and refuses new ones. */
  close(): void {
    this.closing.abort();
  }

  private toError(e: SdkError): TbaasError {
    const tencentCode = e.code ?? '';
    const message = this.redact(e.message || (e.httpCode ? `HTTP ${e.httpCode}` : 'request failed'));
    const chaincode = tencentCode.startsWith('FailedOperation') ? parseChaincodeError(message) : undefined;
    if (chaincode) return new TbaasError(chaincode.code, chaincode.message, tencentCode, e.requestId ?? '', e.httpCode);
    const code = ledgerCode(tencentCode, e.httpCode);
    const text = code === 'ERR_ENDORSEMENT' ? chaincodeMessage(message) : `${tencentCode || 'TBaaS'}: ${message}`;
    return new TbaasError(code, text, tencentCode, e.requestId ?? '', e.httpCode);
  }

  /** Removes the credentials from any text that may have echoed them. */
  private redact(text: string): string {
    return this.secrets.reduce((t, s) => t.split(s).join('***'), text);
  }
}
