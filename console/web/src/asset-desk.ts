import type { HolderScope } from '@trace/chaincode/dist/src/rules/assets';
import type { AssetClass } from '@trace/chaincode';
import { api } from './api';
import { signHolderRequest } from '../../src/holder-signing';
import { wallet } from './holder-store';

/** The desk as GET /api/assets answers it: the indexed classes, the audited lots and where holder signatures are valid. */
export interface Desk {
  org: string;
  scope: Omit<HolderScope, 'transaction'>;
  classes: AssetClass[];
  lots: { task_id: string; product_name: string; lot: string; template: string }[];
}

export const loadDesk = (): Promise<Desk> => api<Desk>('GET', '/api/assets');

/** Signs a holder request with this browser's key for one transaction of the desk's chaincode, and has the console relay it. */
export async function holderWrite<T>(desk: Desk, tx: string, request: object): Promise<T> {
  const holder = wallet.current;
  if (!holder) throw new Error('no holder key in this browser');
  const signed = await signHolderRequest(holder, { ...desk.scope, transaction: `assets:${tx}` }, request);
  return api<T>('POST', `/api/assets/holder/${tx}`, signed);
}

/** A fresh id for offers, pledges and redemptions (the chain refuses a reused one). */
export const newId = (prefix: string): string => `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
