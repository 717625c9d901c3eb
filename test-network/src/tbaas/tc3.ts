import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { IncomingHttpHeaders } from 'node:http';

/** Tencent Cloud's error answer: a code of its common error catalogue and a message. */
export interface ApiError {
  code: string;
  message: string;
}

/** Signatures older or newer than this are expired, as on the cloud. */
export const MAX_CLOCK_SKEW_S = 300;
export const SIGNED_HEADERS = 'content-type;host';

const AUTHORIZATION = /^TC3-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{4}-\d{2}-\d{2})\/([^/,\s]+)\/tc3_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/;

const sha256Hex = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();

/** host header without its port, lower case: what the SDK puts in the canonical headers. */
export function hostname(host: string): string {
  const h = host.trim().toLowerCase();
  return h.startsWith('[') ? h.slice(0, h.indexOf(']') + 1) : h.replace(/:\d+$/, '');
}

/** TC3 signature of a POST to `/` with the given canonical headers and body. */
export function tc3Signature(secretKey: string, opts: { date: string; service: string; timestamp: string; contentType: string; host: string; body: Buffer }): string {
  const canonicalRequest = ['POST', '/', '', `content-type:${opts.contentType}\nhost:${opts.host}\n`, SIGNED_HEADERS, sha256Hex(opts.body)].join('\n');
  const scope = `${opts.date}/${opts.service}/tc3_request`;
  const stringToSign = ['TC3-HMAC-SHA256', opts.timestamp, scope, sha256Hex(canonicalRequest)].join('\n');
  const signing = hmac(hmac(hmac(`TC3${secretKey}`, opts.date), opts.service), 'tc3_request');
  return createHmac('sha256', signing).update(stringToSign).digest('hex');
}

/**
 * Verifies a TC3-HMAC-SHA256 request as the cloud does: the Authorization header's form, a
 * timestamp within 5 minutes, a known SecretId, the credential scope's date (the timestamp's UTC
 * day) and service (the first label of the host the request names: tbaas.tencentcloudapi.com →
 * tbaas), SignedHeaders content-type;host, then the canonical request and string to sign rebuilt
 * here and the signature compared in constant time. Returns the SecretId or the cloud's error.
 */
export function verifyTc3(headers: IncomingHttpHeaders, body: Buffer, secretKeyOf: (secretId: string) => string | undefined, nowMs: number): { secretId: string } | ApiError {
  const m = AUTHORIZATION.exec(String(headers.authorization ?? ''));
  if (!m) return { code: 'AuthFailure.InvalidAuthorization', message: 'The Authorization header is not a TC3-HMAC-SHA256 authorization.' };
  const [, secretId, date, service, signedHeaders, signature] = m;
  const timestamp = String(headers['x-tc-timestamp'] ?? '');
  if (!/^\d{1,12}$/.test(timestamp)) return { code: 'MissingParameter', message: 'The X-TC-Timestamp header is missing or not a Unix time.' };
  if (Math.abs(nowMs / 1000 - Number(timestamp)) > MAX_CLOCK_SKEW_S) {
    return { code: 'AuthFailure.SignatureExpire', message: 'Signature expired: the Timestamp and the server time differ by more than 5 minutes.' };
  }
  const secretKey = secretKeyOf(secretId);
  if (secretKey === undefined) return { code: 'AuthFailure.SecretIdNotFound', message: 'The SecretId does not exist; use a valid key.' };
  const host = hostname(String(headers.host ?? ''));
  const failure = { code: 'AuthFailure.SignatureFailure', message: 'The signature does not match the request.' };
  if (date !== new Date(Number(timestamp) * 1000).toISOString().slice(0, 10)) return failure;
  if (service !== host.split('.')[0] || signedHeaders !== SIGNED_HEADERS) return failure;
  const contentType = String(headers['content-type'] ?? '').trim().toLowerCase();
  const expected = tc3Signature(secretKey, { date, service, timestamp, contentType, host, body });
  if (!timingSafeEqual(Buffer.from(expected, 'hex'), Buffer.from(signature, 'hex'))) return failure;
  return { secretId };
}
