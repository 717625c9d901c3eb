import { createHash } from 'node:crypto';
import { z } from 'zod';
import { DateTime } from '../schemas';
import { canonicalEpc, EpcisEvent } from './event-hash';
import { codeHashOf, CONTEXT } from './vocabulary';

/**
 * The EPCIS 2.0 REST binding's simple event query (GET /events): the parameters this indexer
 * answers, how an event matches them, paging by perPage and an opaque nextPageToken, and the
 * documents it answers with.
 */

const EVENT_TYPES = ['ObjectEvent', 'AggregationEvent', 'TransactionEvent', 'TransformationEvent', 'AssociationEvent'] as const;
const CBV_URI = /^https:\/\/ref\.gs1\.org\/cbv\/(?:BizStep|Disp)-([a-z_]+)$/;
const PER_PAGE_MAX = 1000;

/** a pipe-delimited list parameter (the binding's style: pipeDelimited), each element checked */
const pipeList = <T extends z.ZodType<string, string>>(element: T) =>
  z
    .string()
    .max(4096)
    .transform((s) => s.split('|'))
    .pipe(z.array(element).min(1).max(100));
const Uri = z.string().regex(/^[A-Za-z][A-Za-z0-9+.-]*:\S+$/, 'a URI');
const Term = z.string().regex(/^([a-z_]{2,64}|[A-Za-z][A-Za-z0-9+.-]*:\S+)$/, 'a CBV term or a URI');

/** The query parameters: unknown ones are refused (a misspelt filter must not widen the answer). */
export const EventsQuery = z.strictObject({
  eventType: pipeList(z.enum(EVENT_TYPES)).optional().describe('ObjectEvent|AggregationEvent|…'),
  GE_eventTime: DateTime.optional(),
  LT_eventTime: DateTime.optional(),
  EQ_bizStep: pipeList(Term).optional().describe('CBV bare words (shipping) or URIs, pipe-delimited'),
  EQ_disposition: pipeList(Term).optional(),
  EQ_bizLocation: pipeList(Uri).optional().describe('GLN Digital Links (https://id.gs1.org/414/…) or SGLN URNs'),
  MATCH_epc: pipeList(Uri).optional().describe('EPCs in epcList or childEPCs'),
  MATCH_anyEPC: pipeList(Uri).optional().describe('EPCs in epcList, childEPCs, parentID, inputEPCList or outputEPCList'),
  perPage: z.coerce.number().int().min(1).max(PER_PAGE_MAX).default(30),
  nextPageToken: z.string().regex(/^[A-Za-z0-9_-]{1,200}$/).optional(),
});
export type EventsQuery = z.output<typeof EventsQuery>;

const bare = (v: string) => CBV_URI.exec(v)?.[1] ?? v;
const list = (v: unknown): string[] => (Array.isArray(v) ? (v as string[]) : typeof v === 'string' ? [v] : []);

/** Whether an event matches every filter given. */
export function matches(e: EpcisEvent, q: EventsQuery): boolean {
  const time = Date.parse(String(e.eventTime));
  if (q.eventType && !q.eventType.includes(e.type as (typeof EVENT_TYPES)[number])) return false;
  if (q.GE_eventTime && time < Date.parse(q.GE_eventTime)) return false;
  if (q.LT_eventTime && time >= Date.parse(q.LT_eventTime)) return false;
  if (q.EQ_bizStep && !(typeof e.bizStep === 'string' && q.EQ_bizStep.map(bare).includes(e.bizStep))) return false;
  if (q.EQ_disposition && !(typeof e.disposition === 'string' && q.EQ_disposition.map(bare).includes(e.disposition))) return false;
  const location = (e.bizLocation as { id?: string } | undefined)?.id;
  if (q.EQ_bizLocation && !(location && q.EQ_bizLocation.map(canonicalEpc).includes(location))) return false;
  if (q.MATCH_epc && !anyOf([...list(e.epcList), ...list(e.childEPCs)], q.MATCH_epc)) return false;
  if (q.MATCH_anyEPC && !anyOf([...list(e.epcList), ...list(e.childEPCs), ...list(e.parentID), ...list(e.inputEPCList), ...list(e.outputEPCList)], q.MATCH_anyEPC)) return false;
  return true;
}

const anyOf = (epcs: string[], wanted: string[]) => wanted.map(canonicalEpc).some((w) => epcs.includes(w));

/** The code hashes a query's EPC filters name, when every EPC it names is a code (undefined: it may match any lot). */
export function codesNamed(q: EventsQuery): string[] | undefined {
  const named = q.MATCH_epc ?? q.MATCH_anyEPC;
  const hashes = named?.map(codeHashOf);
  return hashes?.every((h: string | undefined) => h !== undefined) ? (hashes as string[]) : undefined;
}

/** The filters a page token is bound to: a token from another query is refused rather than misread. */
const fingerprint = (q: EventsQuery): string => {
  const { perPage: _p, nextPageToken: _t, ...filters } = q;
  return createHash('sha256').update(JSON.stringify(filters)).digest('base64url').slice(0, 16);
};

/** The next page's token: where it starts, for these filters. */
export const pageToken = (q: EventsQuery, offset: number): string => Buffer.from(`${offset}.${fingerprint(q)}`).toString('base64url');

/** Where a page starts: 0 without a token; undefined for a token of another query or a malformed one. */
export function pageStart(q: EventsQuery): number | undefined {
  if (!q.nextPageToken) return 0;
  const m = /^(\d{1,9})\.([A-Za-z0-9_-]{16})$/.exec(Buffer.from(q.nextPageToken, 'base64url').toString());
  return m && m[2] === fingerprint(q) ? Number(m[1]) : undefined;
}

const document = (type: string, epcisBody: object) => ({ '@context': CONTEXT, type, schemaVersion: '2.0', creationDate: new Date().toISOString(), epcisBody });

/** An EPCIS 2.0 document of events (an export). */
export const epcisDocument = (events: EpcisEvent[]) => document('EPCISDocument', { eventList: events });

/** An EPCIS 2.0 query document (the answer of a query). */
export const queryDocument = (events: EpcisEvent[]) => document('EPCISQueryDocument', { queryResults: { queryName: 'SimpleEventQuery', resultsBody: { eventList: events } } });
