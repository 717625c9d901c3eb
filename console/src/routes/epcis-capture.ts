import { ConsoleError } from '../errors';
import { schemaProblems } from '../epcis/schema';
import { ConsoleRoute, user } from '../route-kit';

/**
 * GS1 EPCIS 2.0 capture (the REST binding's capture interface) for the org's ERP, MES or WMS: machine routes
 * authenticated by a console user's API token; each event needs the role of the page where a person would make it
 * (a stage record data entry, an audit qa, codes and scans code manager: CAPTURE_ROLES), and every write names that user.
 */

/** events per document (GS1-EPCIS-Capture-Limit) and bytes per body (GS1-EPCIS-Capture-File-Size-Limit) */
export const CAPTURE_LIMIT = 500;
export const CAPTURE_MAX_BYTES = 4 * 1024 * 1024;

const BINDING_HEADERS = { 'GS1-EPCIS-Version': '2.0.0', 'GS1-CBV-Version': '2.0.0', 'GS1-EPCIS-Capture-Limit': String(CAPTURE_LIMIT), 'GS1-EPCIS-Capture-File-Size-Limit': String(CAPTURE_MAX_BYTES) };

function eventsOf(doc: Record<string, unknown>): Record<string, unknown>[] {
  const body = doc.epcisBody as Record<string, unknown>;
  const list = doc.type === 'EPCISQueryDocument' ? ((body.queryResults as Record<string, unknown>)?.resultsBody as Record<string, unknown>)?.eventList : body.eventList;
  return Array.isArray(list) ? (list as Record<string, unknown>[]) : [];
}

export const epcisCaptureRoutes: ConsoleRoute[] = [
  {
    method: 'post', path: '/epcis/capture', access: ['data_entry', 'qa', 'code_manager'], auth: 'token', body: { maxBytes: CAPTURE_MAX_BYTES, types: ['application/ld+json'] },
    summary: "Capture an EPCISDocument (or EPCISQueryDocument): 400 with the schema's messages, else 202 and the job's Location",
    handle: (c) => {
      c.ctx.set(BINDING_HEADERS);
      // a ledger cannot take back committed transactions: the job stops at the first refusal and says what went on chain
      const behaviour = c.ctx.get('gs1-capture-error-behaviour');
      if (behaviour && behaviour !== 'proceed') throw new ConsoleError(400, 'ERR_CAPTURE_BEHAVIOUR', `GS1-Capture-Error-Behaviour '${behaviour}' is not supported: a ledger cannot roll back; send proceed (events before a refusal stay recorded, none after it is submitted)`);
      const problems = schemaProblems(c.body);
      if (problems.length) {
        const fields: Record<string, string> = {};
        for (const p of problems) {
          const [path, ...message] = p.split(' ');
          fields[path] = fields[path] ? `${fields[path]}; ${message.join(' ')}` : message.join(' ');
        }
        throw new ConsoleError(400, 'ERR_EPCIS_SCHEMA', `the document does not validate against GS1's EPCIS 2.0 JSON Schema: ${problems.slice(0, 3).join('; ')}`, fields);
      }
      const events = eventsOf(c.body);
      if (events.length === 0) throw new ConsoleError(400, 'ERR_VALIDATION', 'the document has no events');
      if (events.length > CAPTURE_LIMIT) throw new ConsoleError(413, 'ERR_CAPTURE_LIMIT', `at most ${CAPTURE_LIMIT} events per capture (GS1-EPCIS-Capture-Limit); split the document`);
      const captureID = c.deps.capture.start(events, c.body['@context'], user(c));
      c.ctx.status = 202;
      c.ctx.set('Location', `/epcis/capture/${captureID}`);
      return { captureID, location: `/epcis/capture/${captureID}` };
    },
  },
  {
    method: 'get', path: '/epcis/capture', access: 'user', auth: 'token', summary: 'The latest capture jobs, newest first',
    handle: (c) => {
      c.ctx.set(BINDING_HEADERS);
      return c.deps.capture.list();
    },
  },
  {
    method: 'get', path: '/epcis/capture/:captureID', access: 'user', auth: 'token', summary: 'A capture job: running, success, and each event recorded (with its transaction), refused (code, message) or not submitted',
    handle: (c) => {
      c.ctx.set(BINDING_HEADERS);
      return c.deps.capture.get(c.params.captureID);
    },
  },
];
