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
    const getClass = async (classId: string) => {
      const json = await db.value<string>('SELECT json FROM asset_classes WHERE class_id = ?', classId);
      if (json === undefined) throw new ApiError(404, 'ERR_NOT_FOUND', `asset class ${classId} is not indexed`);
      return JSON.parse(json) as Record<string, unknown>;
    };
    handle(router, R.classes, async (ctx, { query }) => {
      const kind = query.kind ?? null;
      ctx.body = (await db.column<string>('SELECT json FROM asset_classes WHERE (CAST(? AS TEXT) IS NULL OR kind = ?) ORDER BY class_id', kind, kind)).map((json) => JSON.parse(json) as object);
    });
    handle(router, R.class, async (ctx, { params: { classId } }) => {
      const c = await getClass(classId);
      const holders = await db.value<number>('SELECT count(*) FROM balances WHERE class_id = ?', classId);
      const openOffers = await db.all("SELECT * FROM offers WHERE class_id = ? AND status = 'open' ORDER BY price, offer_id", classId);
      const locks = await db.all('SELECT * FROM locks WHERE class_id = ? ORDER BY lock_id', classId);
      ctx.body = { ...c, holders, openOffers, locks };
    });
    handle(router, R.holders, async (ctx, { params: { classId }, query: { limit, offset } }) => {
      await getClass(classId);
      ctx.body = await db.all('SELECT account, amount FROM balances WHERE class_id = ? ORDER BY amount DESC, account LIMIT ? OFFSET ?', classId, limit, offset);
    });
    handle(router, R.offers, async (ctx, { params: { classId }, query: { limit, offset, ...q } }) => {
      const status = q.status ?? null;
      await getClass(classId);
      ctx.body = await db.all('SELECT * FROM offers WHERE class_id = ? AND (CAST(? AS TEXT) IS NULL OR status = ?) ORDER BY offer_id LIMIT ? OFFSET ?', classId, status, status, limit, offset);
    });
    handle(router, R.history, async (ctx, { params: { classId }, query: { limit, offset } }) => {
      await getClass(classId);
      ctx.body = (await db.all<{ detail: string }>('SELECT block, idx, tx_id, name, at, detail FROM asset_events WHERE class_id = ? ORDER BY block, idx LIMIT ? OFFSET ?', classId, limit, offset)).map((r) => ({
        ...r,
        detail: JSON.parse(r.detail) as object,
      }));
    });
    handle(router, R.account, async (ctx, { params: { account } }) => {
      ctx.body = await db.all('SELECT b.class_id, c.symbol, c.kind, b.amount FROM balances b JOIN asset_classes c ON c.class_id = b.class_id WHERE b.account = ? ORDER BY b.class_id', account);
    });
  },
};
