import { PAGES } from '../access';
import { ConsoleError } from '../errors';
import { Call, chainWrite, ConsoleRoute, id, str, user } from '../route-kit';

/** 茶花 / 酒花 desk: the org's writes (propose, confirm, issue, confirm a redemption) and the relay of holder-signed requests. */
const DESK = PAGES.assets;
const ACCOUNT = /^[0-9a-f]{64}$/;

/**
 * Holder-signed transactions, relayed exactly as the holder's browser signed them: the console adds nothing (the
 * signature covers every field), checks nothing the chain checks, and never holds a holder key.
 */
const HOLDER_TXS = ['transfer', 'createOffer', 'acceptOffer', 'cancelOffer', 'lock', 'unlock', 'redeem'] as const;
type HolderTx = (typeof HOLDER_TXS)[number];

/** The fields of a DTO a chain refusal names (class-validator's messages start with the property), else the form's. */
function fieldsOf(names: string[]): (code: string, message: string) => Record<string, string> {
  return (code, message) => {
    const field = names.find((n) => new RegExp(`\\b${n}\\b`).test(message));
    return field ? { [field]: message } : code === 'ERR_SIGNATURE' || code === 'ERR_REPLAY' ? { signature: message } : {};
  };
}

function int(body: Record<string, unknown>, name: string): number {
  const v = body[name];
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new ConsoleError(400, 'ERR_VALIDATION', `${name} must be a whole number`, { [name]: 'a whole number' });
  return v;
}

function account(value: unknown, name: string): string {
  if (typeof value !== 'string' || !ACCOUNT.test(value)) throw new ConsoleError(400, 'ERR_VALIDATION', `${name} is not an account (64 hex digits)`, { [name]: 'an account' });
  return value;
}

function strings(body: Record<string, unknown>, name: string): string[] {
  const v = body[name] ?? [];
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) throw new ConsoleError(400, 'ERR_VALIDATION', `${name} must be a list of strings`, { [name]: 'a list' });
  return v as string[];
}

/** limit and offset of a paged table (the query string), at most 100 rows a page. */
function page(call: Call): string {
  const n = (name: string, dflt: number, min: number, max: number) => {
    const raw = call.ctx.query[name];
    const v = raw === undefined ? dflt : Number(raw);
    if (!Number.isInteger(v) || v < min || v > max) throw new ConsoleError(400, 'ERR_VALIDATION', `${name} must be a whole number from ${min} to ${max}`);
    return v;
  };
  return `limit=${n('limit', 20, 1, 100)}&offset=${n('offset', 0, 0, 1e9)}`;
}

/**
 * The bodies of this desk's own chain calls, built in one place. (Holder requests are not here: they reach the chain
 * as signed, so a user field would have to be signed into them by the browser.)
 */
export const ASSET_CALLS = {
  proposeClass: (b: Record<string, unknown>) => {
    const storage = (b.storage ?? {}) as Record<string, unknown>;
    return {
      classId: id(str(b, 'classId') as string, 'classId'),
      symbol: str(b, 'symbol') as string,
      kind: str(b, 'kind') as 'tea' | 'liquor',
      taskId: id(str(b, 'taskId') as string, 'taskId'),
      unit: str(b, 'unit') as string,
      certifiedQuantity: int(b, 'certifiedQuantity'),
      storage: { warehouse: str(storage, 'warehouse') as string, location: str(storage, 'location') as string, since: str(storage, 'since') as string },
      confirmations: strings(b, 'confirmations') as ('warehouse' | 'inspector')[],
      evidence: strings(b, 'evidence'),
    };
  },
  confirmClass: (classId: string, b: Record<string, unknown>) => ({ classId, role: str(b, 'role') as 'warehouse' }),
  issue: (classId: string, b: Record<string, unknown>) => ({ classId, to: account(b.to, 'to'), quantity: int(b, 'quantity') }),
  confirmRedemption: (redemptionId: string) => ({ redemptionId }),
};

const PROPOSE_FIELDS = ['classId', 'symbol', 'kind', 'taskId', 'unit', 'certifiedQuantity', 'warehouse', 'location', 'since', 'confirmations', 'evidence'];

function holderTx(name: string): HolderTx {
  if (!(HOLDER_TXS as readonly string[]).includes(name)) throw new ConsoleError(404, 'ERR_NOT_FOUND', `no holder transaction ${name} (one of ${HOLDER_TXS.join(', ')})`);
  return name as HolderTx;
}

/** Relays one signed request; the audit log names the class and the console user who relayed it. */
function relay(call: Call): Promise<unknown> {
  const tx = holderTx(call.params.tx);
  const subject = typeof call.body.classId === 'string' ? call.body.classId : typeof call.body.redemptionId === 'string' ? call.body.redemptionId : '?';
  const dto = call.body as never;
  const assets = call.deps.chain.client.assets;
  return chainWrite<unknown>(call, `assets:${tx}`, subject, () => assets[tx](dto), fieldsOf(['quantity', 'to', 'from', 'price', 'currencyClass', 'offerId', 'lockId', 'lender', 'redemptionId', 'classId']));
}

export const ASSET_ROUTES: ConsoleRoute[] = [
  {
    method: 'get', path: '/api/assets', access: DESK, summary: 'The desk: asset classes (indexer), audited lots that may back a class, and the scope holders sign for',
    handle: async (c) => {
      const { indexer, chain } = c.deps;
      const [classes, lots] = await Promise.all([indexer.get<unknown[]>('/api/assets/classes'), indexer.get<unknown[]>('/api/tasks?audited=true&limit=100')]);
      const { channel, chaincode } = chain.client.holderScope('');
      return { org: chain.org, scope: { channel, chaincode }, classes, lots };
    },
  },
  {
    method: 'get', path: '/api/assets/classes/:classId', access: DESK, summary: 'A class (indexer) with open offers, locks and holder count',
    handle: (c) => c.deps.indexer.get(`/api/assets/classes/${encodeURIComponent(id(c.params.classId, 'classId'))}`),
  },
  {
    method: 'get', path: '/api/assets/classes/:classId/holders', access: DESK, summary: 'Holders of a class, largest first (limit, offset)',
    handle: (c) => c.deps.indexer.get(`/api/assets/classes/${encodeURIComponent(id(c.params.classId, 'classId'))}/holders?${page(c)}`),
  },
  {
    method: 'get', path: '/api/assets/classes/:classId/history', access: DESK, summary: 'Every event of a class in chain order (limit, offset)',
    handle: (c) => c.deps.indexer.get(`/api/assets/classes/${encodeURIComponent(id(c.params.classId, 'classId'))}/history?${page(c)}`),
  },
  {
    method: 'get', path: '/api/assets/accounts/:account', access: DESK, summary: "An account's holdings across classes",
    handle: (c) => c.deps.indexer.get(`/api/assets/accounts/${account(c.params.account, 'account')}`),
  },
  {
    method: 'post', path: '/api/assets/classes', access: DESK, summary: 'Propose a class from an audited lot {classId, symbol, kind, taskId, unit, certifiedQuantity, storage, confirmations, evidence}',
    handle: (c) => {
      const dto = { ...ASSET_CALLS.proposeClass(c.body), actor: user(c).username };
      // the lot's recorded quantity caps what its classes certify
      const fields = (code: string, message: string) => (code === 'ERR_INSUFFICIENT' ? { certifiedQuantity: message } : fieldsOf(PROPOSE_FIELDS)(code, message));
      return chainWrite(c, 'assets:proposeClass', dto.classId, () => c.deps.chain.client.assets.proposeClass(dto), fields);
    },
  },
  {
    method: 'post', path: '/api/assets/classes/:classId/confirm', access: DESK, summary: 'Confirm a proposed class in one of the org\'s roles {role}',
    handle: (c) => {
      const dto = { ...ASSET_CALLS.confirmClass(id(c.params.classId, 'classId'), c.body), actor: user(c).username };
      return chainWrite(c, 'assets:confirmClass', dto.classId, () => c.deps.chain.client.assets.confirmClass(dto), fieldsOf(['role']));
    },
  },
  {
    method: 'post', path: '/api/assets/classes/:classId/issue', access: DESK, summary: 'Issue units of an active class to an account {to, quantity}',
    handle: (c) => {
      const dto = { ...ASSET_CALLS.issue(id(c.params.classId, 'classId'), c.body), actor: user(c).username };
      return chainWrite(c, 'assets:issue', dto.classId, () => c.deps.chain.client.assets.issue(dto), (code, message) => (code === 'ERR_INSUFFICIENT' ? { quantity: message } : fieldsOf(['to', 'quantity'])(code, message)));
    },
  },
  {
    method: 'post', path: '/api/assets/redemptions/:redemptionId/confirm', access: DESK, summary: 'Confirm the delivery of redeemed goods (the storing warehouse)',
    handle: (c) => {
      const dto = { ...ASSET_CALLS.confirmRedemption(id(c.params.redemptionId, 'redemptionId')), actor: user(c).username };
      return chainWrite(c, 'assets:confirmRedemption', dto.redemptionId, () => c.deps.chain.client.assets.confirmRedemption(dto));
    },
  },
  { method: 'post', path: '/api/assets/holder/:tx', access: DESK, summary: `Relay a holder-signed request as signed (${HOLDER_TXS.join(', ')})`, handle: relay },
];
