import { ApiError, HASH, ID, oneOf, page, param, RouteModule } from '../http';

/** 茶花 / 酒花 asset classes: supply, holders, offers, locks and each class's event history. */
export const assetRoutes: RouteModule = {
  routes: [
    { method: 'get', path: '/api/assets/classes', scope: 'member', summary: 'Asset classes (kind: tea, liquor, currency)', query: ['kind'] },
    { method: 'get', path: '/api/assets/classes/{classId}', scope: 'member', summary: 'An asset class with its holder count, open offers and locks' },
    { method: 'get', path: '/api/assets/classes/{classId}/holders', scope: 'member', summary: 'Holders of a class, largest first (limit, offset)', query: ['limit', 'offset'] },
    { method: 'get', path: '/api/assets/classes/{classId}/offers', scope: 'member', summary: 'Offers of a class (status: open, filled, cancelled)', query: ['status', 'limit', 'offset'] },
    { method: 'get', path: '/api/assets/classes/{classId}/history', scope: 'member', summary: 'Every event of a class in chain order (limit, offset)', query: ['limit', 'offset'] },
    { method: 'get', path: '/api/assets/accounts/{account}', scope: 'member', summary: 'The holdings of an account across classes' },
  ],
  register(router, { db }) {
    const getClass = (classId: string) => {
      const row = db.prepare('SELECT json FROM asset_classes WHERE class_id = ?').get(classId) as { json: string } | undefined;
      if (!row) throw new ApiError(404, 'ERR_NOT_FOUND', `asset class ${classId} is not indexed`);
      return JSON.parse(row.json) as Record<string, unknown>;
    };
    router.get('/api/assets/classes', (ctx) => {
      const kind = oneOf(ctx.query.kind, ['tea', 'liquor', 'currency'], 'kind') ?? null;
      ctx.body = (db.prepare('SELECT json FROM asset_classes WHERE (? IS NULL OR kind = ?) ORDER BY class_id').all(kind, kind) as { json: string }[]).map((r) => JSON.parse(r.json) as object);
    });
    router.get('/api/assets/classes/:classId', (ctx) => {
      const classId = param(ctx.params.classId, ID, 'classId');
      const c = getClass(classId);
      const holders = (db.prepare('SELECT count(*) AS n FROM balances WHERE class_id = ?').get(classId) as { n: number }).n;
      const openOffers = db.prepare("SELECT * FROM offers WHERE class_id = ? AND status = 'open' ORDER BY price, offer_id").all(classId);
      const locks = db.prepare('SELECT * FROM locks WHERE class_id = ? ORDER BY lock_id').all(classId);
      ctx.body = { ...c, holders, openOffers, locks };
    });
    router.get('/api/assets/classes/:classId/holders', (ctx) => {
      const classId = param(ctx.params.classId, ID, 'classId');
      const { limit, offset } = page(ctx.query);
      getClass(classId);
      ctx.body = db.prepare('SELECT account, amount FROM balances WHERE class_id = ? ORDER BY amount DESC, account LIMIT ? OFFSET ?').all(classId, limit, offset);
    });
    router.get('/api/assets/classes/:classId/offers', (ctx) => {
      const classId = param(ctx.params.classId, ID, 'classId');
      const status = oneOf(ctx.query.status, ['open', 'filled', 'cancelled'], 'status') ?? null;
      const { limit, offset } = page(ctx.query);
      getClass(classId);
      ctx.body = db.prepare('SELECT * FROM offers WHERE class_id = ? AND (? IS NULL OR status = ?) ORDER BY offer_id LIMIT ? OFFSET ?').all(classId, status, status, limit, offset);
    });
    router.get('/api/assets/classes/:classId/history', (ctx) => {
      const classId = param(ctx.params.classId, ID, 'classId');
      const { limit, offset } = page(ctx.query);
      getClass(classId);
      ctx.body = (db.prepare('SELECT block, idx, tx_id, name, at, detail FROM asset_events WHERE class_id = ? ORDER BY block, idx LIMIT ? OFFSET ?').all(classId, limit, offset) as { detail: string }[]).map((r) => ({
        ...r,
        detail: JSON.parse(r.detail) as object,
      }));
    });
    router.get('/api/assets/accounts/:account', (ctx) => {
      const account = param(ctx.params.account, HASH, 'account');
      ctx.body = db.prepare('SELECT b.class_id, c.symbol, c.kind, b.amount FROM balances b JOIN asset_classes c ON c.class_id = b.class_id WHERE b.account = ? ORDER BY b.class_id').all(account);
    });
  },
};
