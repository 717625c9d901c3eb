import { z } from 'zod';
import { ApiError, route, RouteModule } from '../http';
import { Doc, Hash, Id, Int, Page, PAGE, rows } from '../schemas';
import { handle } from '../validation';

const ClassParams = z.object({ classId: Id });
const Offer = { offer_id: z.string(), class_id: z.string(), seller: z.string(), quantity: Int, price: Int, currency_class: z.string(), status: z.string() };
const AssetClass = z.looseObject({ classId: z.string(), symbol: z.string(), kind: z.string() });

const R = {
  classes: route({
    method: 'get', path: '/api/assets/classes', scope: 'member', summary: 'Asset classes (kind: tea, liquor, currency)',
    query: z.object({ kind: z.enum(['tea', 'liquor', 'currency']).optional() }),
    response: { description: 'asset classes', schema: z.array(AssetClass) },
  }),
  class: route({
    method: 'get', path: '/api/assets/classes/{classId}', scope: 'member', summary: 'An asset class with its holder count, open offers and locks', errors: [404],
    params: ClassParams,
    response: { description: 'the class', schema: AssetClass.extend({ holders: Int, openOffers: rows(Offer), locks: rows({ lock_id: z.string(), account: z.string(), quantity: Int, kind: z.string() }) }) },
  }),
  holders: route({
    method: 'get', path: '/api/assets/classes/{classId}/holders', scope: 'member', summary: 'Holders of a class, largest first (limit, offset)', errors: [404],
    params: ClassParams, query: Page,
    response: { description: 'holders', schema: rows({ account: z.string(), amount: Int }) },
  }),
  offers: route({
    method: 'get', path: '/api/assets/classes/{classId}/offers', scope: 'member', summary: 'Offers of a class (status: open, filled, cancelled)', errors: [404],
    params: ClassParams, query: z.object({ status: z.enum(['open', 'filled', 'cancelled']).optional(), ...PAGE }),
    response: { description: 'offers', schema: rows(Offer) },
  }),
  history: route({
    method: 'get', path: '/api/assets/classes/{classId}/history', scope: 'member', summary: 'Every event of a class in chain order (limit, offset)', errors: [404],
    params: ClassParams, query: Page,
    response: { description: 'events', schema: rows({ block: Int, idx: Int, tx_id: Hash, name: z.string(), at: z.string(), detail: Doc }) },
  }),
  account: route({
    method: 'get', path: '/api/assets/accounts/{account}', scope: 'member', summary: 'The holdings of an account across classes',
    params: z.object({ account: Hash }),
    response: { description: 'holdings', schema: rows({ class_id: z.string(), symbol: z.string(), kind: z.string(), amount: Int }) },
  }),
};

/** 茶花 / 酒花 asset classes: supply, holders, offers, locks and each class's event history. */
export const assetRoutes: RouteModule = {
  routes: Object.values(R),
  register(router, { db }) {
    const getClass = (classId: string) => {
      const row = db.prepare('SELECT json FROM asset_classes WHERE class_id = ?').get(classId) as { json: string } | undefined;
      if (!row) throw new ApiError(404, 'ERR_NOT_FOUND', `asset class ${classId} is not indexed`);
      return JSON.parse(row.json) as Record<string, unknown>;
    };
    handle(router, R.classes, (ctx, { query }) => {
      const kind = query.kind ?? null;
      ctx.body = (db.prepare('SELECT json FROM asset_classes WHERE (? IS NULL OR kind = ?) ORDER BY class_id').all(kind, kind) as { json: string }[]).map((r) => JSON.parse(r.json) as object);
    });
    handle(router, R.class, (ctx, { params: { classId } }) => {
      const c = getClass(classId);
      const holders = (db.prepare('SELECT count(*) AS n FROM balances WHERE class_id = ?').get(classId) as { n: number }).n;
      const openOffers = db.prepare("SELECT * FROM offers WHERE class_id = ? AND status = 'open' ORDER BY price, offer_id").all(classId);
      const locks = db.prepare('SELECT * FROM locks WHERE class_id = ? ORDER BY lock_id').all(classId);
      ctx.body = { ...c, holders, openOffers, locks };
    });
    handle(router, R.holders, (ctx, { params: { classId }, query: { limit, offset } }) => {
      getClass(classId);
      ctx.body = db.prepare('SELECT account, amount FROM balances WHERE class_id = ? ORDER BY amount DESC, account LIMIT ? OFFSET ?').all(classId, limit, offset);
    });
    handle(router, R.offers, (ctx, { params: { classId }, query: { limit, offset, ...q } }) => {
      const status = q.status ?? null;
      getClass(classId);
      ctx.body = db.prepare('SELECT * FROM offers WHERE class_id = ? AND (? IS NULL OR status = ?) ORDER BY offer_id LIMIT ? OFFSET ?').all(classId, status, status, limit, offset);
    });
    handle(router, R.history, (ctx, { params: { classId }, query: { limit, offset } }) => {
      getClass(classId);
      ctx.body = (db.prepare('SELECT block, idx, tx_id, name, at, detail FROM asset_events WHERE class_id = ? ORDER BY block, idx LIMIT ? OFFSET ?').all(classId, limit, offset) as { detail: string }[]).map((r) => ({
        ...r,
        detail: JSON.parse(r.detail) as object,
      }));
    });
    handle(router, R.account, (ctx, { params: { account } }) => {
      ctx.body = db.prepare('SELECT b.class_id, c.symbol, c.kind, b.amount FROM balances b JOIN asset_classes c ON c.class_id = b.class_id WHERE b.account = ? ORDER BY b.class_id').all(account);
    });
  },
};
