import { z } from 'zod';

/**
 * The fields the HTTP API takes, declared once: each route's params, query and body schemas are
 * built from these, and validated input and the OpenAPI document both come from them.
 */
export const Hash = z.string().regex(/^[0-9a-f]{64}$/).describe('SHA-256, lowercase hex');
export const Id = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/);
/** a printed code as typed or scanned: Crockford base32 with its check character (one of *~$=U), dashes allowed */
export const Code = z.string().regex(/^[A-Za-z0-9*~$=-]{5,64}$/).describe('a printed code as typed or scanned');
export const Region = z.string().regex(/^[A-Z]{2}(-[A-Z0-9]{1,3})?$/).describe('ISO 3166 code such as CN or CN-53');
export const Gtin = z.string().regex(/^\d{8,14}$/).describe('GTIN-8 to GTIN-14');
export const Lot = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$/);
/** the shape codes:recordScans accepts, so that no queued scan is refused later */
export const DateTime = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/)
  .refine((s) => Number.isFinite(Date.parse(s)), 'not a date')
  .describe('RFC 3339 date-time with an offset');
export const BoolWord = z.enum(['true', 'false']);

const Limit = z.coerce.number().int().min(1).max(500).default(50);
const Offset = z.coerce.number().int().min(0).default(0);
/** limit (1..500, default 50) and offset of a listing */
export const PAGE = { limit: Limit, offset: Offset };
export const Page = z.object(PAGE);

/** The body of every error answer. */
export const ErrorBody = z.object({ error: z.object({ code: z.string().describe('stable, e.g. ERR_VALIDATION'), message: z.string() }) });

/** A database row as the API returns it: the named fields are typed; more may follow as the schema grows. */
export const row = <S extends z.ZodRawShape>(shape: S) => z.looseObject(shape);
export const rows = <S extends z.ZodRawShape>(shape: S) => z.array(row(shape));
/** a JSON document stored by the chaincode (a task, a class, an audit): typed where the API relies on it */
export const Doc = z.looseObject({});
/** a SQLite 0/1 column is a number, not a boolean */
export const Int = z.number().int();

const Str = z.string();
const OptStr = z.string().nullable();

/** rows several routes return */
export const BlockRow = row({ number: Int, hash: Str, previous_hash: Str, data_hash: Str, tx_count: Int, first_tx_ms: Int.nullable() });
export const TransactionRow = row({ block: Int, idx: Int, tx_id: Hash, validation_code: Str, creator_msp: Str, timestamp_ms: Int, chaincode: OptStr, event_name: OptStr });
export const CodeRow = row({ hash: Hash, task_id: Str, gtin: Str, lot: Str, level: Str, status: Str, parent: Hash.nullable(), suspect_since: OptStr, diverted_since: OptStr, issued_by: Str, issued_at: Str, issued_actor: OptStr.describe("the issuing org's user (for the task's orgs and auditors)") });
export const AlertRow = row({ id: Int, type: Str, code_hash: OptStr, task_id: OptStr, device_id: OptStr, rule_id: OptStr, message: OptStr, region: OptStr, at: Str, tx_id: Str });
export const AlarmRow = row({ alarm_id: Str, device_id: Str, task_id: OptStr, metric: Str, value: z.number(), bounds: Doc, source: Str, at: Str, acked_by: OptStr, acked_at: OptStr, acked_actor: OptStr.describe("the acknowledging org's user (for that org and auditors)") });
export const DeviceRow = row({ device_id: Str, type: Str, owner_msp: Str, status: Str, key_version: Int, last_seq: Int, thresholds: Doc });
export const ReadingRow = row({ device_id: Str, seq: Int, task_id: OptStr, digest: Str, count: Int, stats: Doc, submitted_at: Str });
