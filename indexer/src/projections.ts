import { codeKey, codeKeyOrNull } from './code-key';
import { Db } from './db';
import type { Param } from './store';

/** One chaincode event of a valid transaction, with where it sits in the chain. */
export interface ChainEventRow {
  block: number;
  idx: number;
  txId: string;
  name: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  payload: any;
}

type Handler = (db: Db, e: ChainEventRow) => Promise<void>;

const json = (v: unknown) => JSON.stringify(v ?? null);

/**
 * rows per multi-row INSERT at most: one statement execution instead of one per row, well under
 * SQLite's 32,766 bound parameters
 */
export const INSERT_CHUNK = 512;
/** statements by shape and item count: each built once, so the store's statement cache finds the same string */
const chunkSql = new Map<string, string>();

/**
 * Runs one statement per chunk of `items`: INSERT_CHUNK items, or a power of two below it for the
 * rest (1,000 items: 512, 256, 128, 64, 32, 8), so each statement `shape` has at most ten sizes, each
 * prepared once. `sql(n)` is the statement for n items, `params` a chunk's parameters.
 */
async function inChunks<T>(db: Db, shape: string, items: T[], sql: (n: number) => string, params: (chunk: T[]) => Param[]): Promise<void> {
  for (let i = 0; i < items.length; ) {
    const n = Math.min(INSERT_CHUNK, 2 ** (31 - Math.clz32(items.length - i)));
    const key = `${n} ${shape}`;
    let text = chunkSql.get(key);
    if (!text) chunkSql.set(key, (text = sql(n)));
    await db.run(text, ...params(items.slice(i, i + n)));
    i += n;
  }
}

/**
 * Inserts rows through multi-row INSERT statements (one execution instead of one per row): `head` is
 * the statement up to VALUES, `row` one row's tuple of parameters (?); each row gives its parameters
 * in order, values shared by every row included (positional parameters only: PostgreSQL has no named ones).
 */
export function insertRows(db: Db, head: string, row: string, rows: Param[][]): Promise<void> {
  return inChunks(db, `${head} ${row}`, rows, (n) => `${head} VALUES ${Array.from({ length: n }, () => row).join(', ')}`, (chunk) => chunk.flat());
}

/**
 * Sets `set` (its parameters `params`) on the codes of `hashes` through UPDATE … WHERE hash IN (…):
 * one statement per chunk instead of one per code (on PostgreSQL a round trip each; a case packs 24 codes).
 */
function updateCodes(db: Db, set: string, params: Param[], hashes: string[]): Promise<void> {
  const head = `UPDATE codes SET ${set} WHERE hash IN`;
  return inChunks(db, head, hashes.map(codeKey), (n) => `${head} (${Array.from({ length: n }, () => '?').join(', ')})`, (keys) => [...params, ...keys]);
}

async function upsertMember(db: Db, m: { mspId: string; name: string; roles: string[]; status: string; joinedAt: string; updatedAt: string }): Promise<void> {
  await db.run(
    `INSERT INTO members (msp_id, name, roles, status, joined_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (msp_id) DO UPDATE SET name = excluded.name, roles = excluded.roles, status = excluded.status, updated_at = excluded.updated_at`,
    m.mspId,
    m.name,
    json(m.roles),
    m.status,
    m.joinedAt,
    m.updatedAt,
  );
}

async function upsertProduct(db: Db, p: { gtin: string; name: string; category: string; brand: string; ownerMsp: string; status: string }): Promise<void> {
  await db.run(
    `INSERT INTO products (gtin, name, category, brand, owner_msp, status, json) VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (gtin) DO UPDATE SET status = excluded.status, json = excluded.json`,
    p.gtin,
    p.name,
    p.category,
    p.brand,
    p.ownerMsp,
    p.status,
    json(p),
  );
}

async function upsertLocation(db: Db, l: { id: string; name: string; type: string; region: string; geo: { lat: number; lon: number }; ownerMsp: string; status: string }): Promise<void> {
  await db.run(
    `INSERT INTO locations (id, name, type, region, lat, lon, owner_msp, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET status = excluded.status`,
    l.id,
    l.name,
    l.type,
    l.region,
    l.geo.lat,
    l.geo.lon,
    l.ownerMsp,
    l.status,
  );
}

/**
 * RFID reads in a batch of device readings: where and when a code was seen. `key` turns a code hash
 * into what the table stores: its 32-byte key (schema version 14 on), or the hex itself for the
 * backfill of schema version 3, which runs on a database that still keeps hashes as hex.
 */
async function insertSightings(db: Db, e: ChainEventRow, key: (hex: string) => Param = codeKey): Promise<void> {
  const links = (e.payload.codeLinks as { codeHash: string; at: string; lat?: number; lon?: number }[] | undefined) ?? [];
  const deviceId = e.payload.batch.deviceId as string;
  await insertRows(
    db,
    'INSERT INTO code_sightings (code_hash, tx_id, idx, device_id, at, lat, lon)',
    '(?, ?, ?, ?, ?, ?, ?)',
    links.map((l, i) => [key(l.codeHash), e.txId, i, deviceId, l.at, l.lat ?? null, l.lon ?? null]),
  );
}

async function upsertDefinition(db: Db, kind: 'form' | 'stage', d: { id: string; name: string }): Promise<void> {
  await db.run('INSERT INTO definitions (kind, id, name, json) VALUES (?, ?, ?, ?) ON CONFLICT (kind, id) DO UPDATE SET name = excluded.name, json = excluded.json', kind, d.id, d.name, json(d));
}

async function insertRecord(db: Db, e: ChainEventRow): Promise<void> {
  const r = e.payload.record;
  await db.run(
    `INSERT INTO stage_records (task_id, stage, version, biz_step, event_time, location, data, recorded_by, actor, tx_id, flags, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    r.taskId,
    r.stage,
    r.version,
    e.payload.bizStep ?? null,
    r.eventTime,
    r.location ?? null,
    json(r.data),
    r.recordedBy,
    r.actor ?? null,
    r.txId,
    json(r.flags),
    r.reason ?? null,
  );
  for (const a of e.payload.alerts ?? []) await insertAlert(db, e, { type: a.type, taskId: r.taskId, ruleId: a.ruleId, message: a.message, at: e.payload.txTime });
}

async function insertAlert(db: Db, e: ChainEventRow, a: { type: string; codeHash?: string; taskId?: string; deviceId?: string; ruleId?: string; message?: string; region?: string; at: string }): Promise<void> {
  await db.run(
    `INSERT INTO alerts (type, code_hash, task_id, device_id, rule_id, message, region, at, tx_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    a.type,
    codeKeyOrNull(a.codeHash),
    a.taskId ?? null,
    a.deviceId ?? null,
    a.ruleId ?? null,
    a.message ?? null,
    a.region ?? null,
    a.at,
    e.txId,
  );
}

async function addBalance(db: Db, account: string, classId: string, delta: number): Promise<void> {
  // the stored amount qualified by its table: PostgreSQL finds a bare `amount` ambiguous beside excluded's
  await db.run(
    `INSERT INTO balances (account, class_id, amount) VALUES (?, ?, ?) ON CONFLICT (account, class_id) DO UPDATE SET amount = balances.amount + excluded.amount`,
    account,
    classId,
    delta,
  );
  await db.run('DELETE FROM balances WHERE account = ? AND class_id = ? AND amount = 0', account, classId);
}

/** Applies a change to an asset class's stored JSON. */
async function patchClass(db: Db, classId: string, change: (c: Record<string, unknown>) => void): Promise<void> {
  const stored = await db.value<string>('SELECT json FROM asset_classes WHERE class_id = ?', classId);
  if (stored === undefined) return;
  const c = JSON.parse(stored) as Record<string, unknown>;
  change(c);
  await db.run('UPDATE asset_classes SET json = ? WHERE class_id = ?', json(c), classId);
}

async function upsertOffer(db: Db, o: { offerId: string; classId: string; seller: string; quantity: number; price: number; currencyClass: string; status: string }): Promise<void> {
  await db.run(
    `INSERT INTO offers (offer_id, class_id, seller, quantity, price, currency_class, status) VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (class_id, offer_id) DO UPDATE SET quantity = excluded.quantity, status = excluded.status`,
    o.offerId,
    o.classId,
    o.seller,
    o.quantity,
    o.price,
    o.currencyClass,
    o.status,
  );
}

/** How each chaincode event changes the read model. Events not listed are kept in `events` only. */
export const PROJECTIONS: Record<string, Handler> = {
  'consortium.Bootstrapped': (db, e) => upsertMember(db, e.payload.member),
  'consortium.MemberAdded': (db, e) => upsertMember(db, e.payload.member),
  'consortium.MemberUpdated': (db, e) => upsertMember(db, e.payload.member),
  'consortium.MemberStatusChanged': (db, e) => upsertMember(db, e.payload.member),
  'catalog.ProductDefined': (db, e) => upsertProduct(db, e.payload.product),
  'catalog.ProductStatusChanged': (db, e) => upsertProduct(db, e.payload.product),
  'catalog.ProductDelegated': (db, e) => upsertProduct(db, e.payload.product),
  'catalog.LocationDefined': (db, e) => upsertLocation(db, e.payload.location),
  'catalog.LocationStatusChanged': (db, e) => upsertLocation(db, e.payload.location),
  'process.ItemDefined': async (db, e) => {
    const i = e.payload.item;
    await db.run(
      'INSERT INTO items (id, name, type, unit, json) VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET name = excluded.name, type = excluded.type, unit = excluded.unit, json = excluded.json',
      i.id,
      i.name,
      i.type,
      i.unit ?? null,
      json(i),
    );
  },
  'process.FormDefined': (db, e) => upsertDefinition(db, 'form', e.payload.form),
  'process.StageDefined': (db, e) => upsertDefinition(db, 'stage', e.payload.stage),
  'process.TemplatePublished': async (db, e) => {
    const t = e.payload.template;
    await db.run('INSERT INTO templates (id, version, name, category, json) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING', t.id, t.version, t.name, t.category, json(t));
  },
  'process.TemplateRetired': async (db, e) => {
    const r = e.payload.retirement;
    // `retired` set in JS (as json_set did: in place, or appended), so both engines store the same text
    for (const t of await db.all<{ version: number; json: string }>('SELECT version, json FROM templates WHERE id = ?', r.id)) {
      const template = JSON.parse(t.json) as Record<string, unknown>;
      template.retired = r ?? null;
      await db.run('UPDATE templates SET json = ? WHERE id = ? AND version = ?', json(template), r.id, t.version);
    }
  },
  'trace.TaskCreated': async (db, e) => {
    const t = e.payload.task;
    await db.run('INSERT INTO tasks (task_id, template, version, gtin, lot, json, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)', t.taskId, t.template, t.version, t.product.gtin, t.lot, json(t), t.createdAt);
  },
  'trace.StageRecorded': insertRecord,
  'trace.StageAmended': insertRecord,
  'trace.StageAudited': async (db, e) => {
    const a = e.payload.audit;
    await db.run(
      'INSERT INTO audits (task_id, stage, verdict, comment, auditor, actor, at, record_version, tx_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      a.taskId,
      a.stage,
      a.verdict,
      a.comment,
      a.auditor,
      a.actor ?? null,
      a.at,
      a.recordVersion,
      a.txId,
    );
  },
  'trace.TaskAudited': async (db, e) => {
    const a = e.payload.audit;
    await db.run('UPDATE tasks SET audit = ? WHERE task_id = ?', json(a), a.taskId);
    await db.run('INSERT INTO audits (task_id, stage, verdict, comment, auditor, actor, at, record_version, tx_id) VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?)', a.taskId, '*', a.verdict, a.comment, a.auditor, a.actor ?? null, a.at, a.txId);
  },
  'codes.Issued': async (db, e) => {
    // up to thousands of codes per transaction: multi-row inserts
    const p = e.payload;
    const issuance: Param[] = [p.taskId, p.gtin, p.lot, p.level, p.issuedBy, p.actor ?? null, p.txTime];
    await insertRows(
      db,
      'INSERT INTO codes (hash, task_id, gtin, lot, level, status, issued_by, issued_actor, issued_at)',
      "(?, ?, ?, ?, ?, 'issued', ?, ?, ?)",
      (p.codeHashes as string[]).map((h) => [codeKey(h), ...issuance]),
    );
  },
  'codes.StatusChanged': (db, e) => updateCodes(db, 'status = ?', [e.payload.status], e.payload.codeHashes),
  'codes.Aggregated': (db, e) => updateCodes(db, 'parent = ?', [codeKey(e.payload.parent)], e.payload.children),
  'codes.Disaggregated': (db, e) => updateCodes(db, 'parent = NULL', [], e.payload.children),
  'codes.Scanned': async (db, e) => {
    await insertRows(
      db,
      'INSERT INTO scans (code_hash, tx_id, idx, channel, region, at, recorded_by)',
      '(?, ?, ?, ?, ?, ?, ?)',
      (e.payload.scans as { codeHash: string; channel: string; region?: string; at: string; recordedBy: string }[]).map((s, i) => [codeKey(s.codeHash), e.txId, i, s.channel, s.region ?? null, s.at, s.recordedBy]),
    );
    for (const a of e.payload.alerts as { type: string; codeHash: string; taskId: string; region?: string; count?: number; threshold?: number }[]) {
      const message = a.type === 'clone' ? `scanned ${a.count} times, threshold ${a.threshold}` : a.type === 'diversion' ? `scanned in ${a.region}` : 'unknown code';
      await insertAlert(db, e, { type: a.type, codeHash: a.codeHash, taskId: a.taskId || undefined, region: a.region, message, at: e.payload.txTime });
      if (a.type === 'clone') await db.run('UPDATE codes SET suspect_since = ? WHERE hash = ? AND suspect_since IS NULL', e.payload.txTime, codeKey(a.codeHash));
      if (a.type === 'diversion') await db.run('UPDATE codes SET diverted_since = ? WHERE hash = ? AND diverted_since IS NULL', e.payload.txTime, codeKey(a.codeHash));
    }
  },
  'codes.AlertCleared': async (db, e) => {
    // the alert's row stays in alerts (history); the code reads as it did before the alert
    const column = e.payload.type === 'clone' ? 'suspect_since' : 'diverted_since';
    await db.run(`UPDATE codes SET ${column} = NULL WHERE hash = ?`, codeKey(e.payload.codeHash));
  },
  'devices.Registered': async (db, e) => {
    const d = e.payload.device;
    await db.run('INSERT INTO devices (device_id, type, owner_msp, status, key_version, last_seq, thresholds) VALUES (?, ?, ?, ?, ?, ?, ?)', d.deviceId, d.type, d.ownerMsp, d.status, d.keyVersion, d.lastSeq, json(d.thresholds));
  },
  'devices.StatusChanged': async (db, e) => {
    await db.run('UPDATE devices SET status = ? WHERE device_id = ?', e.payload.status, e.payload.deviceId);
  },
  'devices.KeyRotated': async (db, e) => {
    await db.run('UPDATE devices SET key_version = ? WHERE device_id = ?', e.payload.keyVersion, e.payload.deviceId);
  },
  'devices.ReadingsSubmitted': async (db, e) => {
    const b = e.payload.batch;
    await db.run('INSERT INTO readings (device_id, seq, task_id, digest, count, stats, submitted_at) VALUES (?, ?, ?, ?, ?, ?, ?)', b.deviceId, b.seq, b.taskId ?? null, b.digest, b.count, json(b.stats), b.submittedAt);
    await db.run('UPDATE devices SET last_seq = ? WHERE device_id = ?', b.seq, b.deviceId);
    for (const a of e.payload.alarms as { alarmId: string; deviceId: string; taskId?: string; metric: string; value: number; bounds: object; source: string; at: string }[]) {
      await db.run('INSERT INTO alarms (alarm_id, device_id, task_id, metric, value, bounds, source, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)', a.alarmId, a.deviceId, a.taskId ?? null, a.metric, a.value, json(a.bounds), a.source, a.at);
      await insertAlert(db, e, { type: 'sensor', deviceId: a.deviceId, taskId: a.taskId, message: `${a.metric} = ${a.value} (${a.source})`, at: a.at });
    }
    await insertSightings(db, e);
  },
  'devices.AlarmAcked': async (db, e) => {
    const a = e.payload.alarm;
    await db.run('UPDATE alarms SET acked_by = ?, acked_actor = ?, acked_at = ? WHERE alarm_id = ?', a.acked.by, a.acked.actor ?? null, a.acked.at, a.alarmId);
  },
  'assets.ClassProposed': async (db, e) => {
    const c = e.payload.assetClass;
    await db.run('INSERT INTO asset_classes (class_id, symbol, kind, json) VALUES (?, ?, ?, ?)', c.classId, c.symbol, c.kind, json(c));
  },
  'assets.CurrencyCreated': (db, e) => PROJECTIONS['assets.ClassProposed'](db, e),
  'assets.ClassConfirmed': (db, e) =>
    patchClass(db, e.payload.classId, (c) => {
      (c.confirmations as Record<string, unknown>)[e.payload.role] = { mspId: e.payload.by, actor: e.payload.actor, at: e.payload.txTime };
      if (e.payload.activated) c.status = 'active';
    }),
  'assets.Issued': async (db, e) => {
    await addBalance(db, e.payload.to, e.payload.classId, e.payload.quantity);
    await patchClass(db, e.payload.classId, (c) => (c.issued = e.payload.issued));
  },
  'assets.Transferred': async (db, e) => {
    await addBalance(db, e.payload.from, e.payload.classId, -e.payload.quantity);
    await addBalance(db, e.payload.to, e.payload.classId, e.payload.quantity);
  },
  'assets.Locked': async (db, e) => {
    const l = e.payload.lock;
    await addBalance(db, l.account, l.classId, -l.quantity);
    await db.run('INSERT INTO locks (class_id, lock_id, account, quantity, kind) VALUES (?, ?, ?, ?, ?)', l.classId, l.lockId, l.account, l.quantity, l.kind);
  },
  'assets.Unlocked': async (db, e) => {
    const l = e.payload.lock;
    await addBalance(db, l.account, l.classId, l.quantity);
    await db.run('DELETE FROM locks WHERE class_id = ? AND lock_id = ?', l.classId, l.lockId);
  },
  'assets.OfferCreated': async (db, e) => {
    const o = e.payload.offer;
    await addBalance(db, o.seller, o.classId, -o.quantity);
    await upsertOffer(db, o);
  },
  'assets.OfferAccepted': async (db, e) => {
    const o = e.payload.offer;
    await addBalance(db, e.payload.buyer, o.classId, e.payload.quantity);
    if (e.payload.cost > 0) {
      await addBalance(db, e.payload.buyer, o.currencyClass, -e.payload.cost);
      await addBalance(db, o.seller, o.currencyClass, e.payload.cost);
    }
    await upsertOffer(db, o);
  },
  'assets.OfferCancelled': async (db, e) => {
    const o = e.payload.offer;
    await addBalance(db, o.seller, o.classId, e.payload.returned);
    await upsertOffer(db, o);
  },
  'assets.Redeemed': async (db, e) => {
    const r = e.payload.redemption;
    await addBalance(db, r.account, r.classId, -r.quantity);
    await patchClass(db, r.classId, (c) => (c.redeemed = e.payload.redeemed));
  },
  'assets.RedemptionConfirmed': (db, e) => patchClass(db, e.payload.redemption.classId, (c) => (c.reserve = e.payload.reserve)),
  'assets.ValuationSet': (db, e) => patchClass(db, e.payload.classId, (c) => (c.valuation = e.payload.valuation)),
};

/** The asset class an assets.* event is about, wherever its payload carries it. */
function assetClassOf(p: Record<string, { classId?: string } | undefined> & { classId?: string }): string | undefined {
  return p.classId ?? p.assetClass?.classId ?? p.lock?.classId ?? p.offer?.classId ?? p.redemption?.classId;
}

/** An asset event in its class's history. */
async function recordAssetEvent(db: Db, e: ChainEventRow): Promise<void> {
  const classId = assetClassOf(e.payload);
  if (!classId) return;
  const detail = { ...e.payload };
  delete detail.txId;
  delete detail.txTime;
  await db.run('INSERT INTO asset_events (class_id, block, idx, tx_id, name, at, detail) VALUES (?, ?, ?, ?, ?, ?, ?)', classId, e.block, e.idx, e.txId, e.name, e.payload.txTime, json(detail));
}

/** Applies one event to the read model; asset events also land in their class's history. */
export async function project(db: Db, e: ChainEventRow): Promise<void> {
  await PROJECTIONS[e.name](db, e);
  if (e.name.startsWith('assets.')) await recordAssetEvent(db, e);
}

/**
 * Fills tables a migration adds from the events already indexed, as if those events had been
 * projected into them when they arrived: `only` names the events and what each adds to the new tables.
 */
export async function backfill(db: Db, only: Record<string, Handler>): Promise<void> {
  const names = Object.keys(only);
  const rows = await db.all<{ block: number; idx: number; tx_id: string; name: string; payload: string }>(
    `SELECT block, idx, tx_id, name, payload FROM events WHERE name IN (${names.map(() => '?').join(', ')}) ORDER BY block, idx`,
    ...names,
  );
  for (const r of rows) await only[r.name](db, { block: r.block, idx: r.idx, txId: r.tx_id, name: r.name, payload: JSON.parse(r.payload) });
}

/*
 * The backfills below run inside their own schema step, before schema version 14 turned code hashes
 * into 32-byte keys: they write and match hashes as the hex the tables held then (version 14 converts them).
 */

/** What schema version 3 added (item labels, RFID sightings, asset class histories), for backfill. */
export const V3_TABLES: Record<string, Handler> = {
  'process.ItemDefined': PROJECTIONS['process.ItemDefined'],
  'devices.ReadingsSubmitted': (db, e) => insertSightings(db, e, (hex) => hex),
  ...Object.fromEntries(Object.keys(PROJECTIONS).filter((n) => n.startsWith('assets.')).map((n) => [n, recordAssetEvent])),
};

/** What schema version 13 added (the users who issued codes and acknowledged alarms), for backfill. */
export const V13_COLUMNS: Record<string, Handler> = {
  'codes.Issued': async (db, e) => {
    for (const h of e.payload.codeHashes as string[]) await db.run('UPDATE codes SET issued_actor = ? WHERE hash = ?', e.payload.actor ?? null, h);
  },
  'devices.AlarmAcked': async (db, e) => {
    await db.run('UPDATE alarms SET acked_actor = ? WHERE alarm_id = ?', e.payload.alarm.acked.actor ?? null, e.payload.alarm.alarmId);
  },
};

/** What schema version 6 added (form and stage definitions), for backfill. */
export const V6_TABLES: Record<string, Handler> = {
  'process.FormDefined': PROJECTIONS['process.FormDefined'],
  'process.StageDefined': PROJECTIONS['process.StageDefined'],
};
