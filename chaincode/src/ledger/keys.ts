import { Context } from 'fabric-contract-api';

/**
 * Typed composite keys: every state object has an object type and ordered attributes, so related
 * objects sort together and range queries by partial key stay cheap. No key is shared by all
 * transactions.
 */
export const KeyType = {
  consortium: 'consortium',
  member: 'member',
  product: 'product',
  location: 'location',
  item: 'item',
  form: 'form',
  stage: 'stage',
  template: 'template',
  templateRetired: 'tplretired',
  task: 'task',
  lot: 'lot',
  record: 'record',
  recordVersion: 'recordv',
  audit: 'audit',
  taskAudit: 'taskaudit',
  code: 'code',
  codeChild: 'codechild',
  /** scans of one code by one scanning org: written only by that org's scans of that code */
  scanCount: 'scancount',
  /** a scan batch id already recorded by one scanning org (recordScans' idempotency) */
  scanBatch: 'scanbatch',
  device: 'device',
  reading: 'reading',
  alarm: 'alarm',
  codeLocation: 'codeloc',
  assetClass: 'aclass',
  assetClassStatus: 'aclassstatus',
  assetValuation: 'avaluation',
  lotCertification: 'lotcert',
  balance: 'bal',
  lock: 'lock',
  offer: 'offer',
  /** the offer again under its status, so a status is a key range: rewritten with the offer */
  offerByStatus: 'offerstatus',
  redemption: 'redeem',
  nonce: 'nonce',
} as const;
export type KeyTypeName = (typeof KeyType)[keyof typeof KeyType];

export function key(ctx: Context, type: KeyTypeName, ...attrs: string[]): string {
  return ctx.stub.createCompositeKey(type, attrs);
}

/** Zero-padded so versions sort numerically in key order. */
export function pad(n: number, width = 6): string {
  return String(n).padStart(width, '0');
}
