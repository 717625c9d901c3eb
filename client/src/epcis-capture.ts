/** The member console's EPCIS capture API as its callers (the CLI, an ERP) see it. */
export interface ConsoleTarget {
  /** e.g. http://127.0.0.1:3001 */
  url: string;
  /** a console user's API token (from TRACE_CONSOLE_TOKEN: a token on the command line would show in process lists) */
  token: string;
}

/** A capture job: each event recorded (with its transaction), refused (with the code), or not submitted. */
export interface CaptureJob {
  captureID: string;
  running: boolean;
  success: boolean;
  state: 'running' | 'success' | 'failure' | 'interrupted';
  events: { index: number; type: string; status: string; transaction?: string; subject?: string; txId?: string; error?: { code: string; message: string } }[];
}

/** A refused capture request: its status, stable code and, for a schema refusal, the problem per place in the document. */
export class CaptureError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields?: Record<string, string>,
  ) {
    super(message);
  }
}

async function answer<T>(res: Response): Promise<T> {
  const body = (await res.json().catch(() => undefined)) as { error?: { code: string; message: string; fields?: Record<string, string> } } | undefined;
  if (!res.ok) throw new CaptureError(res.status, body?.error?.code ?? 'ERR_CONSOLE', body?.error?.message ?? `the console answered ${res.status}`, body?.error?.fields);
  return body as T;
}

/** Posts an EPCIS document to POST /epcis/capture and polls its job until it has finished. */
export async function captureEpcis(target: ConsoleTarget, document: string, pollMs = 250): Promise<CaptureJob> {
  const base = target.url.replace(/\/+$/, '');
  const headers = { authorization: `Bearer ${target.token}` };
  const res = await fetch(`${base}/epcis/capture`, { method: 'POST', headers: { ...headers, 'content-type': 'application/ld+json' }, body: document });
  await answer<unknown>(res);
  const location = res.headers.get('location');
  if (!location) throw new CaptureError(res.status, 'ERR_CONSOLE', 'the console answered without the capture job\'s Location');
  for (;;) {
    const job = await answer<CaptureJob>(await fetch(new URL(location, `${base}/`), { headers }));
    if (!job.running) return job;
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
