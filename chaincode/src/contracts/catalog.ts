import { Info, Returns, Transaction } from 'fabric-contract-api';
import { getMember, requireMember } from '../ledger/access';
import { actorOf } from '../ledger/actor';
import { TraceContext } from '../ledger/context';
import { parseDto } from '../ledger/dto';
import { fail } from '../ledger/errors';
import { KeyType, key } from '../ledger/keys';
import { PageDto } from '../model/page';
import { getJson, pageJson, putJson } from '../ledger/state';
import { DefineLocationDto, DefineProductDto, Location, LocationRefDto, Product, ProductRefDto, SetLocationStatusDto, SetProductDelegatesDto, SetProductStatusDto } from '../model/catalog';
import { canonicalJson } from '../rules/canonical-json';
import { isGln, isGtin, toGtin14 } from '../rules/gs1';
import { BaseContract } from './base';

const SPEC_MAX_KEYS = 32;

export async function getProduct(ctx: TraceContext, gtin: string): Promise<Product | undefined> {
  // Keyed by GTIN-14, so 6901234567915 and 06901234567915 are one product.
  return getJson<Product>(ctx, key(ctx, KeyType.product, toGtin14(gtin)));
}

export async function getLocation(ctx: TraceContext, id: string): Promise<Location | undefined> {
  return getJson<Location>(ctx, key(ctx, KeyType.location, id));
}

/** 商品管理 / 位置管理: products by GTIN and places by GLN. */
@Info({ title: 'catalog', description: 'Products (GTIN) and locations (GLN)' })
export class CatalogContract extends BaseContract {
  constructor() {
    super('catalog');
  }

  @Transaction()
  @Returns('string')
  async defineProduct(ctx: TraceContext, json: string): Promise<string> {
    const dto = parseDto(DefineProductDto, json);
    await requireMember(ctx, ['brand', 'operator']);
    if (!isGtin(dto.gtin)) fail('ERR_VALIDATION', `gtin ${dto.gtin} is not a GTIN-8/12/13/14 with a valid check digit`);
    const spec = dto.spec ?? {};
    const entries = Object.entries(spec);
    if (entries.length > SPEC_MAX_KEYS || entries.some(([k, v]) => k.length > 64 || typeof v !== 'string' || v.length > 256)) {
      fail('ERR_VALIDATION', `spec holds at most ${SPEC_MAX_KEYS} string attributes (keys ≤ 64, values ≤ 256 characters)`);
    }
    if (await getProduct(ctx, dto.gtin)) fail('ERR_CONFLICT', `product ${toGtin14(dto.gtin)} is already defined`);
    const product: Product = { ...dto, gtin: toGtin14(dto.gtin), spec, ownerMsp: ctx.callerMsp, status: 'active', createdAt: ctx.txTime, ...actorOf(dto), updatedAt: ctx.txTime };
    await putJson(ctx, key(ctx, KeyType.product, product.gtin), product);
    ctx.emit('catalog.ProductDefined', { product });
    return canonicalJson(product);
  }

  @Transaction()
  @Returns('string')
  async setProductStatus(ctx: TraceContext, json: string): Promise<string> {
    const dto = parseDto(SetProductStatusDto, json);
    const member = await requireMember(ctx, ['brand', 'operator']);
    const current = (await getProduct(ctx, dto.gtin)) ?? fail('ERR_NOT_FOUND', `product ${dto.gtin} is not defined`);
    if (current.ownerMsp !== ctx.callerMsp && !member.roles.includes('operator')) fail('ERR_FORBIDDEN', `product ${dto.gtin} belongs to ${current.ownerMsp}`);
    if (current.status === dto.status) fail('ERR_STATE', `product ${dto.gtin} is already ${dto.status}`);
    const product: Product = { ...current, status: dto.status, ...actorOf(dto), updatedAt: ctx.txTime };
    await putJson(ctx, key(ctx, KeyType.product, product.gtin), product);
    ctx.emit('catalog.ProductStatusChanged', { product });
    return canonicalJson(product);
  }

  /** The owner names the orgs that may open production tasks for its product (a contract manufacturer). */
  @Transaction()
  @Returns('string')
  async setProductDelegates(ctx: TraceContext, json: string): Promise<string> {
    const dto = parseDto(SetProductDelegatesDto, json);
    await requireMember(ctx, ['brand', 'operator']);
    const current = (await getProduct(ctx, dto.gtin)) ?? fail('ERR_NOT_FOUND', `product ${dto.gtin} is not defined`);
    if (current.ownerMsp !== ctx.callerMsp) fail('ERR_FORBIDDEN', `product ${dto.gtin} belongs to ${current.ownerMsp}; only its owner delegates it`);
    for (const mspId of dto.delegates) {
      if (mspId === current.ownerMsp) fail('ERR_VALIDATION', `${mspId} owns product ${dto.gtin}; an owner is no delegate`);
      if (!(await getMember(ctx, mspId))) fail('ERR_NOT_MEMBER', `${mspId} is not a consortium member`);
    }
    const product: Product = { ...current, delegates: dto.delegates, ...actorOf(dto), updatedAt: ctx.txTime };
    await putJson(ctx, key(ctx, KeyType.product, product.gtin), product);
    ctx.emit('catalog.ProductDelegated', { product });
    return canonicalJson(product);
  }

  @Transaction()
  @Returns('string')
  async defineLocation(ctx: TraceContext, json: string): Promise<string> {
    const dto = parseDto(DefineLocationDto, json);
    const member = await requireMember(ctx);
    if (!isGln(dto.id)) fail('ERR_VALIDATION', `location id ${dto.id} is not a GLN with a valid check digit`);
    const ownerMsp = dto.ownerMsp ?? ctx.callerMsp;
    if (ownerMsp !== ctx.callerMsp) {
      if (!member.roles.includes('operator')) fail('ERR_FORBIDDEN', 'only the operator registers locations for another org');
      if (!(await getMember(ctx, ownerMsp))) fail('ERR_NOT_FOUND', `owner ${ownerMsp} is not a member`);
    }
    if (await getLocation(ctx, dto.id)) fail('ERR_CONFLICT', `location ${dto.id} is already defined`);
    const location: Location = {
      id: dto.id,
      name: dto.name,
      type: dto.type,
      geo: { lat: dto.geo.lat, lon: dto.geo.lon },
      region: dto.region,
      ownerMsp,
      status: 'active',
      createdAt: ctx.txTime,
      ...actorOf(dto),
      updatedAt: ctx.txTime,
    };
    await putJson(ctx, key(ctx, KeyType.location, dto.id), location);
    ctx.emit('catalog.LocationDefined', { location });
    return canonicalJson(location);
  }

  @Transaction()
  @Returns('string')
  async setLocationStatus(ctx: TraceContext, json: string): Promise<string> {
    const dto = parseDto(SetLocationStatusDto, json);
    const member = await requireMember(ctx);
    const current = (await getLocation(ctx, dto.id)) ?? fail('ERR_NOT_FOUND', `location ${dto.id} is not defined`);
    if (current.ownerMsp !== ctx.callerMsp && !member.roles.includes('operator')) fail('ERR_FORBIDDEN', `location ${dto.id} belongs to ${current.ownerMsp}`);
    if (current.status === dto.status) fail('ERR_STATE', `location ${dto.id} is already ${dto.status}`);
    const location: Location = { ...current, status: dto.status, ...actorOf(dto), updatedAt: ctx.txTime };
    await putJson(ctx, key(ctx, KeyType.location, dto.id), location);
    ctx.emit('catalog.LocationStatusChanged', { location });
    return canonicalJson(location);
  }

  @Transaction(false)
  @Returns('string')
  async getProduct(ctx: TraceContext, json: string): Promise<string> {
    const dto = parseDto(ProductRefDto, json);
    return canonicalJson((await getProduct(ctx, dto.gtin)) ?? fail('ERR_NOT_FOUND', `product ${dto.gtin} is not defined`));
  }

  @Transaction(false)
  @Returns('string')
  async getLocation(ctx: TraceContext, json: string): Promise<string> {
    const dto = parseDto(LocationRefDto, json);
    return canonicalJson((await getLocation(ctx, dto.id)) ?? fail('ERR_NOT_FOUND', `location ${dto.id} is not defined`));
  }

  @Transaction(false)
  @Returns('string')
  async listProducts(ctx: TraceContext, json: string): Promise<string> {
    return canonicalJson(await pageJson<Product>(ctx, KeyType.product, [], parseDto(PageDto, json)));
  }

  @Transaction(false)
  @Returns('string')
  async listLocations(ctx: TraceContext, json: string): Promise<string> {
    return canonicalJson(await pageJson<Location>(ctx, KeyType.location, [], parseDto(PageDto, json)));
  }
}
