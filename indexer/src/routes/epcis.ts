import type { Context } from 'koa';
import { z } from 'zod';
import { codeParents, type Db } from '../db';
import { callerOf, stageDataFilter } from '../access';
import { codeHex, codeKey } from '../code-key';
import { ApiError, route, RouteModule } from '../http';
import { Hash, Id } from '../schemas';
import { handle } from '../validation';
import { canonicalEpc, EpcisEvent } from '../epcis/event-hash';
import { lotEvents } from '../epcis/lot-events';
import { codesNamed, epcisDocument, EventsQuery, matches, pageStart, pageToken, queryDocument } from '../epcis/query';
import { codeEpc, glnOf } from '../epcis/vocabulary';

const Document = z.looseObject({ '@context': z.array(z.unknown()), type: z.string(), schemaVersion: z.string(), creationDate: z.string(), epcisBody: z.looseObject({}) });
const SCOPES = "Anonymous callers get the template's public view of stage data (the consumer page's); the task's own orgs' member keys and auditor keys get it in full.";

const R = {
  lot: route({
    method: 'get', path: '/epcis/lots/{taskId}', scope: 'public', errors: [404],
    summary: `A lot's whole history as a GS1 EPCIS 2.0 document (JSON-LD): stage records, codes commissioned and packed, scans, RFID sightings, device readings, audits, error declarations. ${SCOPES}`,
    params: z.object({ taskId: Id }),
    response: { description: 'an EPCISDocument', schema: Document },
  }),
  code: route({
    method: 'get', path: '/epcis/codes/{hash}', scope: 'public', errors: [404],
    summary: `One code's history as a GS1 EPCIS 2.0 document: its lot's stage records, readings and audits, and the events naming the code or a case it is packed in. ${SCOPES}`,
    params: z.object({ hash: Hash }),
    response: { description: 'an EPCISDocument', schema: Document },
  }),
  events: route({
    method: 'get', path: '/epcis/events', scope: 'public',
    summary: `The EPCIS 2.0 REST binding's simple event query over every lot (eventType, GE_eventTime, LT_eventTime, EQ_bizStep, EQ_disposition, EQ_bizLocation, MATCH_epc, MATCH_anyEPC; list values pipe-delimited), oldest first; perPage (default 30, at most 1000) and the nextPageToken of the Link rel="next" header. ${SCOPES}`,
    query: EventsQuery,
    response: { description: 'an EPCISQueryDocument', schema: Document },
  }),
};

/** The EPCIS versions every answer declares (REST binding headers). */
function versionHeaders(ctx: Context): void {
  ctx.set('GS1-EPCIS-Version', '2.0.0');
  ctx.set('GS1-CBV-Version', '2.0.0');
}

const eventsOf = async (db: Db, ctx: Context, taskId: string): Promise<EpcisEvent[]> => lotEvents(db, taskId, await stageDataFilter(db, callerOf(ctx), taskId));

/** The lots a query may concern: those of the codes it names, those recorded at the locations it names, else all (each lot's events are built per query). */
async function candidateLots(db: Db, q: EventsQuery): Promise<string[]> {
  const codes = codesNamed(q);
  if (codes) return db.column<string>(`SELECT DISTINCT task_id FROM codes WHERE hash IN (${codes.map(() => '?').join(', ')}) ORDER BY task_id`, ...codes.map(codeKey));
  // only stage records have a bizLocation: the lots recorded there
  const glns = q.EQ_bizLocation?.map((l) => glnOf(canonicalEpc(l)) ?? '');
  if (glns) return db.column<string>(`SELECT DISTINCT task_id FROM stage_records WHERE location IN (${glns.map(() => '?').join(', ')}) ORDER BY task_id`, ...glns);
  return db.column<string>('SELECT task_id FROM tasks ORDER BY created_at, task_id');
}

/** GS1 EPCIS 2.0 export of lots and codes, and the simple event query. */
export const epcisRoutes: RouteModule = {
  routes: Object.values(R),
  register(router, { db }) {
    handle(router, R.lot, async (ctx, { params: { taskId } }) => {
      if ((await db.value('SELECT 1 FROM tasks WHERE task_id = ?', taskId)) === undefined) throw new ApiError(404, 'ERR_NOT_FOUND', `task ${taskId} is not indexed`);
      versionHeaders(ctx);
      ctx.body = epcisDocument(await eventsOf(db, ctx, taskId));
    });
    handle(router, R.code, async (ctx, { params: { hash } }) => {
      const code = await db.get<{ task_id: string; parent: Buffer | null }>('SELECT task_id, parent FROM codes WHERE hash = ?', codeKey(hash));
      if (!code) throw new ApiError(404, 'ERR_NOT_FOUND', 'unknown code');
      // the code and the cases it is packed in (a scan or sighting of the case is one of the code)
      const mine = new Set([hash, ...(await codeParents(db, code.parent)).map(codeHex)].map(codeEpc));
      const named = (e: EpcisEvent) => [e.epcList, e.childEPCs, e.parentID].flat().filter((x): x is string => typeof x === 'string');
      versionHeaders(ctx);
      ctx.body = epcisDocument(
        (await eventsOf(db, ctx, code.task_id)).filter((e) => {
          const epcs = named(e);
          return epcs.length === 0 || epcs.some((x) => mine.has(x));
        }),
      );
    });
    handle(router, R.events, async (ctx, { query }) => {
      const start = pageStart(query);
      if (start === undefined) throw new ApiError(400, 'ERR_VALIDATION', 'nextPageToken is not a token of this query');
      // lot by lot: one request does not take every pooled connection
      const perLot: EpcisEvent[][] = [];
      for (const taskId of await candidateLots(db, query)) perLot.push((await eventsOf(db, ctx, taskId)).filter((e) => matches(e, query)));
      const found = perLot.flat().sort((a, b) => Date.parse(String(a.eventTime)) - Date.parse(String(b.eventTime)));
      const page = found.slice(start, start + query.perPage);
      if (start + query.perPage < found.length) {
        const next = new URLSearchParams({ ...Object.fromEntries(Object.entries(ctx.query).filter(([k]) => k !== 'nextPageToken')), nextPageToken: pageToken(query, start + query.perPage) } as Record<string, string>);
        ctx.set('Link', `<${ctx.path}?${next.toString()}>; rel="next"`);
      }
      versionHeaders(ctx);
      ctx.body = queryDocument(page);
    });
  },
};
