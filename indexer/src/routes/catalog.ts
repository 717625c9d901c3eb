import { z } from 'zod';
import { route, RouteModule } from '../http';
import { Id, PAGE } from '../schemas';
import { handle } from '../validation';

const Status = z.enum(['active', 'retired']);

const R = {
  products: route({
    method: 'get', path: '/api/products', scope: 'member', summary: 'Products by GTIN-14 (owner, status, limit, offset)',
    query: z.object({ owner: Id.optional(), status: Status.optional(), ...PAGE }),
    response: {
      description: 'products',
      schema: z.array(z.looseObject({ gtin: z.string(), name: z.string(), category: z.string(), brand: z.string(), owner_msp: z.string(), status: z.string(), spec: z.record(z.string(), z.string()), delegates: z.array(z.string()) })),
    },
  }),
  locations: route({
    method: 'get', path: '/api/locations', scope: 'member', summary: 'Locations by GLN (owner, status, limit, offset)',
    query: z.object({ owner: Id.optional(), status: Status.optional(), ...PAGE }),
    response: {
      description: 'locations',
      schema: z.array(z.looseObject({ id: z.string(), name: z.string(), type: z.string(), region: z.string(), lat: z.number(), lon: z.number(), owner_msp: z.string(), status: z.string() })),
    },
  }),
};

interface StoredProduct {
  json: string;
}

/** 产品与地点: the catalog's products and locations as the catalog contract's events leave them. */
export const catalogRoutes: RouteModule = {
  routes: Object.values(R),
  register(router, { db }) {
    handle(router, R.products, async (ctx, { query: { limit, offset, ...q } }) => {
      const owner = q.owner ?? null;
      const status = q.status ?? null;
      ctx.body = (
        await db.all<StoredProduct>('SELECT * FROM products WHERE (CAST(? AS TEXT) IS NULL OR owner_msp = ?) AND (CAST(? AS TEXT) IS NULL OR status = ?) ORDER BY gtin LIMIT ? OFFSET ?', owner, owner, status, status, limit, offset)
      ).map(({ json, ...p }) => {
        const doc = JSON.parse(json) as { spec?: Record<string, string>; delegates?: string[] };
        return { ...p, spec: doc.spec ?? {}, delegates: doc.delegates ?? [] };
      });
    });
    handle(router, R.locations, async (ctx, { query: { limit, offset, ...q } }) => {
      const owner = q.owner ?? null;
      const status = q.status ?? null;
      ctx.body = await db.all('SELECT * FROM locations WHERE (CAST(? AS TEXT) IS NULL OR owner_msp = ?) AND (CAST(? AS TEXT) IS NULL OR status = ?) ORDER BY id LIMIT ? OFFSET ?', owner, owner, status, status, limit, offset);
    });
  },
};
