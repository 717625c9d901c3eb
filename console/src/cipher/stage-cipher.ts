import type { DataItem } from '@trace/chaincode';
import { cipherRecipients, encryptForOrgs } from '@trace/client';
import { ConsoleError } from '../errors';
import type { Deps } from '../route-kit';
import { OrgKeys } from './org-keys';

const MSP_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** The orgs a clerk chose (this org always among them, so its staff can read and amend their own record). */
export function chosenRecipients(raw: unknown, org: string): string[] {
  if (!Array.isArray(raw) || raw.some((m) => typeof m !== 'string' || !MSP_ID.test(m))) throw new ConsoleError(400, 'ERR_VALIDATION', 'recipients must be a list of MSP ids', { recipients: 'a list of MSP ids' });
  return [...new Set([org, ...(raw as string[])])].sort();
}

/**
 * The record's data with each `cipher` item's value encrypted for the recipients. The clerk typed the value into this
 * org's own console, so encrypting it here (with the recipients' public keys) shows it to no one the clerk's org could
 * not already read; only the ciphertext reaches the chain, its events and the indexer.
 */
export async function encryptCipherItems(items: DataItem[], data: Record<string, unknown>, recipients: unknown, keys: OrgKeys): Promise<Record<string, unknown>> {
  const cipherItems = items.filter((i) => i.privacy === 'cipher' && data[i.id] !== undefined);
  if (cipherItems.length === 0) return data;
  const notText = cipherItems.find((i) => typeof data[i.id] !== 'string' || (data[i.id] as string).length === 0);
  if (notText) throw new ConsoleError(400, 'ERR_VALIDATION', `${notText.id} is an encrypted item: send its value as text`, { [notText.id]: 'text to encrypt' });
  const publicKeys = await keys.recipients(chosenRecipients(recipients, keys.org));
  const out = { ...data };
  for (const i of cipherItems) out[i.id] = encryptForOrgs(data[i.id] as string, publicKeys);
  return out;
}

/** What this org may read of a record's `cipher` items: the plain values it is a recipient of, else whom they are for. */
export function revealCipherItems(items: { id: string; privacy: string }[], data: Record<string, unknown>, keys: OrgKeys): { data: Record<string, unknown>; encryptedFor: Record<string, string[]> } {
  const out = { ...data };
  const encryptedFor: Record<string, string[]> = {};
  for (const i of items) {
    const v = data[i.id];
    if (i.privacy !== 'cipher' || typeof v !== 'string') continue;
    const seen = keys.reveal(v);
    if ('value' in seen) out[i.id] = seen.value;
    else {
      delete out[i.id];
      encryptedFor[i.id] = seen.encryptedFor;
    }
  }
  return { data: out, encryptedFor };
}

/**
 * Whom the stage's encrypted items may be encrypted for (the member orgs with a trusted key) and the default: those
 * of the current record's values when amending, else the task's owner (the brand whose auditors review the lot) and
 * this org. Undefined for a stage without such items.
 */
export async function cipherOptions(items: DataItem[], owner: string, current: Record<string, unknown> | undefined, deps: Pick<Deps, 'orgKeys' | 'chain'>): Promise<{ recipients: string[]; choices: { mspId: string; name: string }[] } | undefined> {
  const cipherItems = items.filter((i) => i.privacy === 'cipher');
  if (cipherItems.length === 0) return undefined;
  const [known, members] = await Promise.all([deps.orgKeys.known(), deps.chain.client.consortium.listMembers()]);
  const choices = members.items.filter((m) => known.includes(m.mspId)).map((m) => ({ mspId: m.mspId, name: m.name }));
  const recorded = cipherItems.map((i) => current?.[i.id]).find((v): v is string => typeof v === 'string');
  const defaults = recorded ? cipherRecipients(recorded) : [owner, deps.orgKeys.org];
  return { recipients: [...new Set(defaults)].filter((m) => known.includes(m)).sort(), choices };
}
