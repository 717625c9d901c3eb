import { codeKey, codeKeyOrNull } from './code-key';
import { Db } from './db';

/** One chaincode event of a valid transaction, with where it sits in the chain. */
export interface ChainEventRow {
  block: number;
  idx: number;
  txId: string;
  name: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  payload: any;
}

type Handler = (db: Db, e: ChainEventRow) => void;

const json = (v: unknown) => JSON.stringify(v ?? null);

/**
 * rows per multi-row INSERT at most: one statement execution instead of one per row, well under
 * SQLite's 32,766 bound parameters
 */
export const INSERT_CHUNK = 512;
/** the SQL of a multi-row INSERT per statement head and row template, by row count: built once, so the statement cache finds the same string */
const multiRowSql = new Map<string, Map<number, string>>();

/**
 * Inserts rows through multi-row INSERT statements: `head` is the statement up to VALUES, `row` one
 * row's tuple of anonymous parameters (?) and of named ones (@name) shared by every row, bound from
 * `shared`. Each row gives its anonymous parameters in order. Statements hold INSERT_CHUNK rows, or a
 * power of two below it for the rest (1,000 rows: 512, 256, 128, 64, 32, 8), so each kind of insert
 * has at most ten statements, each prepared once (db.prepare caches by SQL text).
 */
function insertRows(db: Db, head: string, row: string, rows: unknown[][], shared?: Record<string, unknown>): void {
  const template = `${head} ${row}`;
  let bySize = multiRowSql.get(template);
  if (!bySize) multiRowSql.set(template, (bySize = new Map()));
  for (let i = 0; i < rows.length; ) {
    const n = Math.min(INSERT_CHUNK, 2 ** (31 - Math.clz32(rows.length - i)));
    let sql = bySize.get(n);
    if (!sql) bySize.set(n, (sql = `${head} VALUES ${Array.from({ length: n }, () => row).join(', ')}`));
    // an array binds its items as anonymous parameters, in order
    const params = rows.slice(i, i + n).flat();
    if (shared) db.prepare(sql).run(shared, params);
    else db.prepare(sql).run(params);
    i += n;
  }
}

function upsertMember(db: Db, m: { mspId: string; name: string; roles: string[]; status: string; joinedAt: string; updatedAt: string }): void {
  db.prepare(
    `INSERT INTO members (msp_id, name, roles, status, joined_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (msp_id) DO UPDATE SET name = excluded.name, roles = excluded.roles, status = excluded.status, updated_at = excluded.updated_at`,
  ).run(m.mspId, m.name, json(m.roles), m.status, m.joinedAt, m.updatedAt);
}

function upsertProduct(db: Db, p: { gtin: string; name: string; category: string; brand: string; ownerMsp: string; status: string }): void {
  db.prepare(
    `INSERT INTO products (gtin, name, category, brand, owner_msp, status, json) VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (gtin) DO UPDATE SET status = excluded.status, json = excluded.json`,
  ).run(p.gtin, p.name, p.category, p.brand, p.ownerMsp, p.status, json(p));
}

function upsertLocation(db: Db, l: { id: string; name: string; type: string; region: string; geo: { lat: number; lon: number }; ownerMsp: string; status: string }): void {
  db.prepare(
    `INSERT INTO locations (id, name, type, region, lat, lon, owner_msp, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET status = excluded.status`,
  ).run(l.id, l.name, l.type, l.region, l.geo.lat, l.geo.lon, l.ownerMsp, l.status);
}

/**
 * RFID reads in a batch of device readings: where and when a code was seen. `key` turns a code hash
 * into what the table stores: its 32-byte key (schema version 14 on), or the hex itself for the
 * backfill of schema version 3, which runs on a database that still keeps hashes as hex.
 */
function insertSightings(db: Db, e: ChainEventRow, key: (hex: string) => unknown = codeKey): void {
  const links = (e.payload.codeLinks as { codeHash: string; at: string; lat?: number; lon?: number }[] | undefined) ?? [];
  insertRows(
    db,
    'INSERT INTO code_sightings (code_hash, tx_id, idx, device_id, at, lat, lon)',
    '(?, @txId, ?, @deviceId, ?, ?, ?)',
    links.map((l, i) => [key(l.codeHash), i, l.at, l.lat ?? null, l.lon ?? null]),
    { txId: e.txId, deviceId: e.payload.batch.deviceId },
  );
}

function upsertDefinition(db: Db, kind: 'form' | 'stage', d: { id: string; name: string }): void {
  db.prepare('INSERT INTO definitions (kind, id, name, json) VALUES (?, ?, ?, ?) ON CONFLICT (kind, id) DO UPDATE SET name = excluded.name, json = excluded.json').run(kind, d.id, d.name, json(d));
}

function insertRecord(db: Db, e: ChainEventRow): void {
  const r = e.payload.record;
  db.prepare(
    `INSERT INTO stage_records (task_id, stage, version, biz_step, event_time, location, data, recorded_by, actor, tx_id, flags, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(r.taskId, r.stage, r.version, e.payload.bizStep ?? null, r.eventTime, r.location ?? null, json(r.data), r.recordedBy, r.actor ?? null, r.txId, json(r.flags), r.reason ?? null);
  for (const a of e.payload.alerts ?? []) insertAlert(db, e, { type: a.type, taskId: r.taskId, ruleId: a.ruleId, message: a.message, at: e.payload.txTime });
}

function insertAlert(db: Db, e: ChainEventRow, a: { type: string; codeHash?: string; taskId?: string; deviceId?: string; ruleId?: string; message?: string; region?: string; at: string }): void {
  db.prepare(
    `INSERT OR IGNORE INTO alerts (type, code_hash, task_id, device_id, rule_id, message, region, at, tx_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(a.type, codeKeyOrNull(a.codeHash), a.taskId ?? null, a.deviceId ?? null, a.ruleId ?? null, a.message ?? null, a.region ?? null, a.at, e.txId);
}

function addBalance(db: Db, account: string, classId: string, delta: number): void {
  db.prepare(
    `INSERT INTO balances (account, class_id, amount) VALUES (?, ?, ?) ON CONFLICT (account, class_id) DO UPDATE SET amount = amount + excluded.amount`,
  ).run(account, classId, delta);
  db.prepare('DELETE FROM balances WHERE account = ? AND class_id = ? AND amount = 0').run(account, classId);
}

/** Applies a change to an asset class's stored JSON. */
function patchClass(db: Db, classId: string, change: (c: Record<string, unknown>) => void): void {
  const row = db.prepare('SELECT json FROM asset_classes WHERE class_id = ?').get(classId) as { json: string } | undefined;
  if (!row) return;
  const c = JSON.parse(row.json) as Record<string, unknown>;
  change(c);
  db.prepare('UPDATE asset_classes SET json = ? WHERE class_id = ?').run(json(c), classId);
}

function upsertOffer(db: Db, o: { offerId: string; classId: string; seller: string; quantity: number; price: number; currencyClass: string; status: string }): void {
  db.prepare(
    `INSERT INTO offers (offer_id, class_id, seller, quantity, price, currency_class, status) VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (class_id, offer_id) DO UPDATE SET quantity = excluded.quantity, status = excluded.status`,
  ).run(o.offerId, o.classId, o.seller, o.quantity, o.price, o.currencyClass, o.status);
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
  'process.ItemDefined': (db, e) => {
    const i = e.payload.item;
    db.prepare('INSERT INTO items (id, name, type, unit, json) VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET name = excluded.name, type = excluded.type, unit = excluded.unit, json = excluded.json').run(i.id, i.name, i.type, i.unit ?? null, json(i));
  },
  'process.FormDefined': (db, e) => upsertDefinition(db, 'form', e.payload.form),
  'process.StageDefined': (db, e) => upsertDefinition(db, 'stage', e.payload.stage),
  'process.TemplatePublished': (db, e) => {
    const t = e.payload.template;
    db.prepare('INSERT OR IGNORE INTO templates (id, version, name, category, json) VALUES (?, ?, ?, ?, ?)').run(t.id, t.version, t.name, t.category, json(t));
  },
  'process.TemplateRetired': (db, e) => {
    const r = e.payload.retirement;
    db.prepare("UPDATE templates SET json = json_set(json, '$.retired', json(?)) WHERE id = ?").run(json(r), r.id);
  },
  'trace.TaskCreated': (db, e) => {
    const t = e.payload.task;
    db.prepare('INSERT INTO tasks (task_id, template, version, gtin, lot, json, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)').run(t.taskId, t.template, t.version, t.product.gtin, t.lot, json(t), t.createdAt);
  },
  'trace.StageRecorded': insertRecord,
  'trace.StageAmended': insertRecord,
  'trace.StageAudited': (db, e) => {
    const a = e.payload.audit;
    db.prepare('INSERT INTO audits (task_id, stage, verdict, comment, auditor, actor, at, record_version, tx_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)').run(a.taskId, a.stage, a.verdict, a.comment, a.auditor, a.actor ?? null, a.at, a.recordVersion, a.txId);
  },
  'trace.TaskAudited': (db, e) => {
    const a = e.payload.audit;
    db.prepare('UPDATE tasks SET audit = ? WHERE task_id = ?').run(json(a), a.taskId);
    db.prepare('INSERT INTO audits (task_id, stage, verdict, comment, auditor, actor, at, record_version, tx_id) VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?)').run(a.taskId, '*', a.verdict, a.comment, a.auditor, a.actor ?? null, a.at, a.txId);
  },
  'codes.Issued': (db, e) => {
    // up to thousands of codes per transaction: multi-row inserts, the issuance's fields bound once per statement
    const p = e.payload;
    insertRows(
      db,
      'INSERT INTO codes (hash, task_id, gtin, lot, level, status, issued_by, issued_actor, issued_at)',
      "(?, @taskId, @gtin, @lot, @level, 'issued', @issuedBy, @actor, @at)",
      (p.codeHashes as string[]).map((h) => [codeKey(h)]),
      { taskId: p.taskId, gtin: p.gtin, lot: p.lot, level: p.level, issuedBy: p.issuedBy, actor: p.actor ?? null, at: p.txTime },
    );
  },
  'codes.StatusChanged': (db, e) => {
    const update = db.prepare('UPDATE codes SET status = ? WHERE hash = ?');
    for (const h of e.payload.codeHashes as string[]) update.run(e.payload.status, codeKey(h));
  },
  'codes.Aggregated': (db, e) => {
    const update = db.prepare('UPDATE codes SET parent = ? WHERE hash = ?');
    const parent = codeKey(e.payload.parent);
    for (const h of e.payload.children as string[]) update.run(parent, codeKey(h));
  },
  'codes.Disaggregated': (db, e) => {
    const update = db.prepare('UPDATE codes SET parent = NULL WHERE hash = ?');
    for (const h of e.payload.children as string[]) update.run(codeKey(h));
  },
  'codes.Scanned': (db, e) => {
    insertRows(
      db,
      'INSERT INTO scans (code_hash, tx_id, idx, channel, region, at, recorded_by)',
      '(?, @txId, ?, ?, ?, ?, ?)',
      (e.payload.scans as { codeHash: string; channel: string; region?: string; at: string; recordedBy: string }[]).map((s, i) => [codeKey(s.codeHash), i, s.channel, s.region ?? null, s.at, s.recordedBy]),
      { txId: e.txId },
    );
    for (const a of e.payload.alerts as { type: string; codeHash: string; taskId: string; region?: string; count?: number; threshold?: number }[]) {
      const message = a.type === 'clone' ? `scanned ${a.count} times, threshold ${a.threshold}` : a.type === 'diversion' ? `scanned in ${a.region}` : 'unknown code';
      insertAlert(db, e, { type: a.type, codeHash: a.codeHash, taskId: a.taskId || undefined, region: a.region, message, at: e.payload.txTime });
      if (a.type === 'clone') db.prepare('UPDATE codes SET suspect_since = ? WHERE hash = ? AND suspect_since IS NULL').run(e.payload.txTime, codeKey(a.codeHash));
      if (a.type === 'diversion') db.prepare('UPDATE codes SET diverted_since = ? WHERE hash = ? AND diverted_since IS NULL').run(e.payload.txTime, codeKey(a.codeHash));
    }
  },
  'codes.AlertCleared': (db, e) => {
    // the alert's row stays in alerts (history); the code reads as it did before the alert
    const column = e.payload.type === 'clone' ? 'suspect_since' : 'diverted_since';
    db.prepare(`UPDATE codes SET ${column} = NULL WHERE hash = ?`).run(codeKey(e.payload.codeHash));
  },
  'devices.Registered': (db, e) => {
    const d = e.payload.device;
    db.prepare('INSERT INTO devices (device_id, type, owner_msp, status, key_version, last_seq, thresholds) VALUES (?, ?, ?, ?, ?, ?, ?)').run(d.deviceId, d.type, d.ownerMsp, d.status, d.keyVersion, d.lastSeq, json(d.thresholds));
  },
  'devices.StatusChanged': (db, e) => db.prepare('UPDATE devices SET status = ? WHERE device_id = ?').run(e.payload.status, e.payload.deviceId),
  'devices.KeyRotated': (db, e) => db.prepare('UPDATE devices SET key_version = ? WHERE device_id = ?').run(e.payload.keyVersion, e.payload.deviceId),
  'devices.ReadingsSubmitted': (db, e) => {
    const b = e.payload.batch;
    db.prepare('INSERT INTO readings (device_id, seq, task_id, digest, count, stats, submitted_at) VALUES (?, ?, ?, ?, ?, ?, ?)').run(b.deviceId, b.seq, b.taskId ?? null, b.digest, b.count, json(b.stats), b.submittedAt);
    db.prepare('UPDATE devices SET last_seq = ? WHERE device_id = ?').run(b.seq, b.deviceId);
    for (const a of e.payload.alarms as { alarmId: string; deviceId: string; taskId?: string; metric: string; value: number; bounds: object; source: string; at: string }[]) {
      db.prepare('INSERT INTO alarms (alarm_id, device_id, task_id, metric, value, bounds, source, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)').run(a.alarmId, a.deviceId, a.taskId ?? null, a.metric, a.value, json(a.bounds), a.source, a.at);
      insertAlert(db, e, { type: 'sensor', deviceId: a.deviceId, taskId: a.taskId, message: `${a.metric} = ${a.value} (${a.source})`, at: a.at });
    }
    insertSightings(db, e);
  },
  'devices.AlarmAcked': (db, e) => {
    const a = e.payload.alarm;
    db.prepare('UPDATE alarms SET acked_by = ?, acked_actor = ?, acked_at = ? WHERE alarm_id = ?').run(a.acked.by, a.acked.actor ?? null, a.acked.at, a.alarmId);
  },
  'assets.ClassProposed': (db, e) => {
    const c = e.payload.assetClass;
    db.prepare('INSERT INTO asset_classes (class_id, symbol, kind, json) VALUES (?, ?, ?, ?)').run(c.classId, c.symbol, c.kind, json(c));
  },
  'assets.CurrencyCreated': (db, e) => PROJECTIONS['assets.ClassProposed'](db, e),
  'assets.ClassConfirmed': (db, e) =>
    patchClass(db, e.payload.classId, (c) => {
      (c.confirmations as Record<string, unknown>)[e.payload.role] = { mspId: e.payload.by, actor: e.payload.actor, at: e.payload.txTime };
      if (e.payload.activated) c.status = 'active';
    }),
  'assets.Issued': (db, e) => {
    addBalance(db, e.payload.to, e.payload.classId, e.payload.quantity);
    patchClass(db, e.payload.classId, (c) => (c.issued = e.payload.issued));
  },
  'assets.Transferred': (db, e) => {
    addBalance(db, e.payload.from, e.payload.classId, -e.payload.quantity);
    addBalance(db, e.payload.to, e.payload.classId, e.payload.quantity);
  },
  'assets.Locked': (db, e) => {
    const l = e.payload.lock;
    addBalance(db, l.account, l.classId, -l.quantity);
    db.prepare('INSERT INTO locks (class_id, lock_id, account, quantity, kind) VALUES (?, ?, ?, ?, ?)').run(l.classId, l.lockId, l.account, l.quantity, l.kind);
  },
  'assets.Unlocked': (db, e) => {
    const l = e.payload.lock;
    addBalance(db, l.account, l.classId, l.quantity);
    db.prepare('DELETE FROM locks WHERE class_id = ? AND lock_id = ?').run(l.classId, l.lockId);
  },
  'assets.OfferCreated': (db, e) => {
    const o = e.payload.offer;
    addBalance(db, o.seller, o.classId, -o.quantity);
    upsertOffer(db, o);
  },
  'assets.OfferAccepted': (db, e) => {
    const o = e.payload.offer;
    addBalance(db, e.payload.buyer, o.classId, e.payload.quantity);
    if (e.payload.cost > 0) {
      addBalance(db, e.payload.buyer, o.currencyClass, -e.payload.cost);
      addBalance(db, o.seller, o.currencyClass, e.payload.cost);
    }
    upsertOffer(db, o);
  },
  'assets.OfferCancelled': (db, e) => {
    const o = e.payload.offer;
    addBalance(db, o.seller, o.classId, e.payload.returned);
    upsertOffer(db, o);
  },
  'assets.Redeemed': (db, e) => {
    const r = e.payload.redemption;
    addBalance(db, r.account, r.classId, -r.quantity);
    patchClass(db, r.classId, (c) => (c.redeemed = e.payload.redeemed));
  },
  'assets.RedemptionConfirmed': (db, e) => patchClass(db, e.payload.redemption.classId, (c) => (c.reserve = e.payload.reserve)),
  'assets.ValuationSet': (db, e) => patchClass(db, e.payload.classId, (c) => (c.valuation = e.payload.valuation)),
};

/** The asset class an assets.* event is about, wherever its payload carries it. */
function assetClassOf(p: Record<string, { classId?: string } | undefined> & { classId?: string }): string | undefined {
  return p.classId ?? p.assetClass?.classId ?? p.lock?.classId ?? p.offer?.classId ?? p.redemption?.classId;
}

/** An asset event in its class's history. */
function recordAssetEvent(db: Db, e: ChainEventRow): void {
  const classId = assetClassOf(e.payload);
  if (!classId) return;
  const detail = { ...e.payload };
  delete detail.txId;
  delete detail.txTime;
  db.prepare('INSERT INTO asset_events (class_id, block, idx, tx_id, name, at, detail) VALUES (?, ?, ?, ?, ?, ?, ?)').run(classId, e.block, e.idx, e.txId, e.name, e.payload.txTime, json(detail));
}

/** Applies one event to the read model; asset events also land in their class's history. */
export function project(db: Db, e: ChainEventRow): void {
  PROJECTIONS[e.name](db, e);
  if (e.name.startsWith('assets.')) recordAssetEvent(db, e);
}

/**
 * Fills tables a migration adds from the events already indexed, as if those events had been
 * projected into them when they arrived: `only` names the events and what each adds to the new tables.
 */
export function backfill(db: Db, only: Record<string, (db: Db, e: ChainEventRow) => void>): void {
  const rows = db.prepare(`SELECT block, idx, tx_id, name, payload FROM events WHERE name IN (${Object.keys(only).map(() => '?').join(', ')}) ORDER BY block, idx`).all(...Object.keys(only)) as { block: number; idx: number; tx_id: string; name: string; payload: string }[];
  for (const r of rows) only[r.name](db, { block: r.block, idx: r.idx, txId: r.tx_id, name: r.name, payload: JSON.parse(r.payload) });
}

/*
 * The backfills below run inside their own schema step, before schema version 14 turned code hashes
 * into 32-byte keys: they write and match hashes as the hex the tables held then (version 14 converts them).
 */

/** What schema version 3 added (item labels, RFID sightings, asset class histories), for backfill. */
export const V3_TABLES: Record<string, (db: Db, e: ChainEventRow) => void> = {
  'process.ItemDefined': PROJECTIONS['process.ItemDefined'],
  'devices.ReadingsSubmitted': (db, e) => insertSightings(db, e, (hex) => hex),
  ...Object.fromEntries(Object.keys(PROJECTIONS).filter((n) => n.startsWith('assets.')).map((n) => [n, recordAssetEvent])),
};

/** What schema version 13 added (the users who issued codes and acknowledged alarms), for backfill. */
export const V13_COLUMNS: Record<string, (db: Db, e: ChainEventRow) => void> = {
  'codes.Issued': (db, e) => {
    const update = db.prepare('UPDATE codes SET issued_actor = ? WHERE hash = ?');
    for (const h of e.payload.codeHashes as string[]) update.run(e.payload.actor ?? null, h);
  },
  'devices.AlarmAcked': (db, e) => db.prepare('UPDATE alarms SET acked_actor = ? WHERE alarm_id = ?').run(e.payload.alarm.acked.actor ?? null, e.payload.alarm.alarmId),
};

/** What schema version 6 added (form and stage definitions), for backfill. */
export const V6_TABLES: Record<string, (db: Db, e: ChainEventRow) => void> = {
  'process.FormDefined': PROJECTIONS['process.FormDefined'],
  'process.StageDefined': PROJECTIONS['process.StageDefined'],
};
