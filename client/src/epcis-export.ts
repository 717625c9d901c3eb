import { writeFileSync, renameSync } from 'node:fs';

/** Where the indexer is and how to call it: a member or auditor key sees the lot's stage data in full, none only its public view. */
export interface IndexerTarget {
  /** e.g. http://127.0.0.1:3000 */
  url: string;
  /** an indexer API key (from TRACE_INDEXER_KEY: a key on the command line would show in process lists) */
  key?: string;
}

/** An indexer answer that is not the document: its status and stable error code. */
export class IndexerError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A lot's GS1 EPCIS 2.0 document from the indexer (GET /epcis/lots/{taskId}), written to `out`
 * (through a temporary file, so a failed export leaves no half file) or returned.
 */
export async function exportLotEpcis(target: IndexerTarget, taskId: string, out?: string): Promise<{ events: number; text: string }> {
  const res = await fetch(`${target.url.replace(/\/+$/, '')}/epcis/lots/${encodeURIComponent(taskId)}`, { headers: target.key ? { authorization: `Bearer ${target.key}` } : {} });
  const text = await res.text();
  if (res.status !== 200) {
    const error = (JSON.parse(text) as { error?: { code: string; message: string } }).error;
    throw new IndexerError(res.status, error?.code ?? 'ERR_INDEXER', error?.message ?? `the indexer answered ${res.status}`);
  }
  const events = (JSON.parse(text) as { epcisBody: { eventList: unknown[] } }).epcisBody.eventList.length;
  if (out) {
    writeFileSync(`${out}.tmp`, text);
    renameSync(`${out}.tmp`, out);
  }
  return { events, text };
}
