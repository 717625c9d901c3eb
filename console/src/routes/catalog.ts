import type { CatalogStatus, DefineLocationDto, DefineProductDto, Location, LocationType, Product, SetLocationStatusDto, SetProductStatusDto } from '@trace/chaincode';
import type { Input } from '@trace/client';
import { PAGES } from '../access';
import { ConsoleError } from '../errors';
import { fieldsOfRefusal } from '../refusal-fields';
import { Call, chainWrite, ConsoleRoute, id, indexerPage, str, user } from '../route-kit';

/** A product as the page shows it: the chain's shape, without times the indexer does not keep. */
export type ProductRow = Omit<Product, 'createdAt' | 'updatedAt'>;
export type LocationRow = Omit<Location, 'createdAt' | 'updatedAt'>;

interface IndexedProduct extends Omit<ProductRow, 'ownerMsp'> {
  owner_msp: string;
}
interface IndexedLocation extends Omit<LocationRow, 'ownerMsp' | 'geo'> {
  owner_msp: string;
  lat: number;
  lon: number;
}

const productRow = ({ owner_msp, ...p }: IndexedProduct): ProductRow => ({ ...p, ownerMsp: owner_msp });
const locationRow = ({ owner_msp, lat, lon, ...l }: IndexedLocation): LocationRow => ({ ...l, geo: { lat, lon }, ownerMsp: owner_msp });

const productFields = fieldsOfRefusal(['gtin', 'name', 'category', 'brand', 'spec'], 'gtin');
const locationFields = fieldsOfRefusal(['id', 'name', 'type', 'lat', 'lon', 'region'], 'id');

function status(call: Call): CatalogStatus {
  const s = call.body.status;
  if (s !== 'active' && s !== 'retired') throw new ConsoleError(400, 'ERR_VALIDATION', 'status must be active or retired', { status: 'active or retired' });
  return s;
}

function num(call: Call, name: string): number {
  const v = call.body[name];
  if (typeof v !== 'number') throw new ConsoleError(400, 'ERR_VALIDATION', `${name} must be a number`, { [name]: 'a number' });
  return v;
}

function spec(call: Call): Record<string, string> | undefined {
  const v = call.body.spec;
  if (v === undefined) return undefined;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ConsoleError(400, 'ERR_VALIDATION', 'spec must be an object of text attributes', { spec: 'name → text' });
  return v as Record<string, string>;
}

/**
 * The chain call bodies of this page, each built here only. The console checks their shape; the chain checks the rest
 * (GS1 check digits, duplicates, lengths, regions) and its refusal is shown on the field it concerns.
 */
const bodies = {
  defineProduct: (c: Call): Input<DefineProductDto> => ({ gtin: str(c.body, 'gtin') as string, name: str(c.body, 'name') as string, category: str(c.body, 'category') as string, brand: str(c.body, 'brand') as string, spec: spec(c), actor: user(c).username }),
  setProductStatus: (c: Call): Input<SetProductStatusDto> => ({ gtin: id(c.params.gtin, 'gtin'), status: status(c), actor: user(c).username }),
  defineLocation: (c: Call): Input<DefineLocationDto> => ({
    id: str(c.body, 'id') as string, name: str(c.body, 'name') as string, type: str(c.body, 'type') as LocationType, geo: { lat: num(c, 'lat'), lon: num(c, 'lon') }, region: str(c.body, 'region') as string,
    actor: user(c).username,
  }),
  setLocationStatus: (c: Call): Input<SetLocationStatusDto> => ({ id: id(c.params.id, 'id'), status: status(c), actor: user(c).username }),
};

/** 产品与地点: the org's products (GTIN) and locations (GLN), listed from the indexer, written through the org's Ledger. */
export const CATALOG_ROUTES: ConsoleRoute[] = [
  {
    method: 'get', path: '/api/catalog/products', access: PAGES.catalog, summary: "A page of the org's products (offset)",
    handle: async (c) => {
      const { rows, ...page } = await indexerPage<IndexedProduct>(c, `/api/products?owner=${encodeURIComponent(c.deps.chain.org)}`);
      return { products: rows.map(productRow), ...page };
    },
  },
  {
    method: 'post', path: '/api/catalog/products', access: PAGES.catalog, summary: 'Define a product {gtin, name, category, brand, spec?}',
    handle: (c) => {
      const dto = bodies.defineProduct(c);
      return chainWrite(c, 'catalog:defineProduct', dto.gtin, () => c.deps.chain.client.catalog.defineProduct(dto), productFields);
    },
  },
  {
    method: 'post', path: '/api/catalog/products/:gtin/status', access: PAGES.catalog, summary: 'Retire or reactivate a product {status: active | retired}',
    handle: (c) => {
      const dto = bodies.setProductStatus(c);
      return chainWrite(c, `catalog:setProductStatus:${dto.status}`, dto.gtin, () => c.deps.chain.client.catalog.setProductStatus(dto));
    },
  },
  {
    method: 'get', path: '/api/catalog/locations', access: PAGES.catalog, summary: "A page of the org's locations (offset)",
    handle: async (c) => {
      const { rows, ...page } = await indexerPage<IndexedLocation>(c, `/api/locations?owner=${encodeURIComponent(c.deps.chain.org)}`);
      return { locations: rows.map(locationRow), ...page };
    },
  },
  {
    method: 'post', path: '/api/catalog/locations', access: PAGES.catalog, summary: 'Define a location {id (GLN), name, type, lat, lon, region}',
    handle: (c) => {
      const dto = bodies.defineLocation(c);
      return chainWrite(c, 'catalog:defineLocation', dto.id, () => c.deps.chain.client.catalog.defineLocation(dto), locationFields);
    },
  },
  {
    method: 'post', path: '/api/catalog/locations/:id/status', access: PAGES.catalog, summary: 'Retire or reactivate a location {status: active | retired}',
    handle: (c) => {
      const dto = bodies.setLocationStatus(c);
      return chainWrite(c, `catalog:setLocationStatus:${dto.status}`, dto.id, () => c.deps.chain.client.catalog.setLocationStatus(dto));
    },
  },
];
