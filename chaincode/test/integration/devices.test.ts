import { expect } from 'chai';
import { createHash, createPublicKey, generateKeyPairSync, KeyObject } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { codeHash, generateCode, Reading, signPayload, signReadings, simulateDevice, TraceChainClient } from '@trace/client';
import { testClock } from '@trace/test-network';
import { ORGS, rejectsWith, startConsortium, TEA_ASSIGNMENTS, TEA_GTIN, TestConsortium } from './consortium';

const clock = testClock();

const newKey = () => {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { privateKey, publicKeyPem: createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString() };
};
const climate = (temp: number, hours = 100): Reading[] => [
  { at: clock.at(hours), metric: 'storage_temp_c', value: temp, unit: '°C' },
  { at: clock.at(hours), metric: 'storage_humidity_pct', value: 70, unit: '%' },
];

describe('devices: signed readings and alarms (devnet)', function () {
  this.timeout(180_000);
  let net: TestConsortium;
  let farm: TraceChainClient;
  let factory: TraceChainClient;
  let retail: TraceChainClient;
  // Each test gets a cellar device of its own: no test reads the sequence, key or status another left.
  let cellars = 0;
  let device: string;
  let key: { privateKey: KeyObject; publicKeyPem: string };

  const submit = (c: TraceChainClient, k: KeyObject, seq: number, readings: Reading[], taskId?: string, deviceId = device) => c.devices.submitReadings(signReadings(k, { deviceId, seq, taskId, readings }));
  const lastSeq = async (deviceId = device) => (await farm.devices.getDevice(deviceId)).lastSeq;

  before(async () => {
    net = await startConsortium();
    ({ farm, factory, retail } = net.clients);
    await net.clients.brand.trace.createTask({ taskId: 'dev-tea', template: 'puer_tea', version: 1, product: { gtin: TEA_GTIN, name: 'tea' }, lot: 'D1', plannedQuantity: 1, unit: 'cake', assignments: TEA_ASSIGNMENTS });
  });

  beforeEach(async () => {
    device = `cellar-${++cellars}`;
    key = newKey();
    await farm.devices.registerDevice({ deviceId: device, type: 'multi', publicKeyPem: key.publicKeyPem, thresholds: { storage_temp_c: { min: 5, max: 35 }, storage_humidity_pct: { min: 40, max: 90 } } });
  });

  after(async () => {
    await net?.close();
  });

  it('keeps the digest and per-metric stats of an accepted batch', async () => {
    const r = await submit(farm, key.privateKey, 1, [...climate(20), ...climate(22, 101)]);
    expect(r.stats).to.deep.equal({ storage_temp_c: { count: 2, min: 20, max: 22 }, storage_humidity_pct: { count: 2, min: 70, max: 70 } });
    expect(r.alarms).to.deep.equal([]);
    const [batch] = (await farm.devices.listReadings(device)).items;
    expect(batch).to.include({ seq: 1, count: 4, keyVersion: 1, digest: r.digest });
  });

  it('raises alarms outside the device thresholds and the task template bounds, and lets the owner acknowledge them', async () => {
    // 32 °C is inside the device's 5–35 but outside the tea template's storage_temp rule (10–30).
    const r = await submit(farm, key.privateKey, 2, [...climate(32), ...climate(36, 101)], 'dev-tea');
    expect(r.alarms).to.deep.equal([`${device}/2/0`, `${device}/2/2`]);
    const alarms = (await farm.devices.listAlarms(device)).items;
    expect(alarms.map((a) => [a.alarmId, a.value, a.source])).to.deep.equal([
      [`${device}/2/0`, 32, 'rule storage_temp'],
      [`${device}/2/2`, 36, 'device threshold'],
    ]);
    await rejectsWith(factory.devices.ackAlarm({ alarmId: `${device}/2/0`, comment: 'not mine' }), 'ERR_FORBIDDEN');
    const acked = await farm.devices.ackAlarm({ alarmId: `${device}/2/0`, comment: 'door closed' });
    expect(acked.acked).to.include({ by: ORGS.farm, comment: 'door closed' });
    await rejectsWith(farm.devices.ackAlarm({ alarmId: `${device}/2/0`, comment: 'again' }), 'ERR_STATE');
    await retail.devices.ackAlarm({ alarmId: `${device}/2/2`, comment: 'regulator saw it' });
    await rejectsWith(farm.devices.ackAlarm({ alarmId: `${device}/9/0`, comment: '' }), 'ERR_NOT_FOUND');
  });

  it('rejects a forged signature and a replayed seq, changing nothing', async () => {
    await submit(farm, key.privateKey, 1, climate(20));
    const before = await lastSeq();
    const forged = signReadings(newKey().privateKey, { deviceId: device, seq: before + 1, readings: climate(20) });
    await rejectsWith(farm.devices.submitReadings(forged), 'ERR_SIGNATURE');
    const tampered = { ...signReadings(key.privateKey, { deviceId: device, seq: before + 1, readings: climate(20) }) };
    tampered.payload = Buffer.from(JSON.stringify({ deviceId: device, seq: before + 1, readings: climate(21) })).toString('base64');
    await rejectsWith(farm.devices.submitReadings(tampered), 'ERR_SIGNATURE');
    await rejectsWith(submit(farm, key.privateKey, before, climate(20)), 'ERR_REPLAY', new RegExp(`not above the last accepted ${before}`));
    expect(await lastSeq()).to.equal(before);
    expect((await farm.devices.listReadings(device)).items).to.have.length(before);
  });

  it('verifies the exact bytes a device sent: firmware formatting is accepted, the digest is over those bytes', async () => {
    const seq = (await lastSeq()) + 1;
    // key order, spacing and number forms a C firmware might print: none survive a JSON round trip
    const firmware = Buffer.from(`{ "seq": ${seq}, "deviceId": "${device}",\n  "readings": [ { "unit": "°C", "value": 2.05e1, "metric": "storage_temp_c", "at": "${clock.at(150)}" },\n { "at": "${clock.at(150)}", "metric": "storage_humidity_pct", "value": 70.50, "unit": "%" } ] }`);
    expect(JSON.stringify(JSON.parse(firmware.toString()))).to.not.equal(firmware.toString());
    const r = await farm.devices.submitReadings(signPayload(key.privateKey, device, firmware));
    expect(r.digest).to.equal(createHash('sha256').update(firmware).digest('hex'));
    expect(r.stats).to.deep.equal({ storage_temp_c: { count: 1, min: 20.5, max: 20.5 }, storage_humidity_pct: { count: 1, min: 70.5, max: 70.5 } });
    expect(await lastSeq()).to.equal(seq);
  });

  it("refuses signed bytes that are not readings, or another device's readings, changing nothing", async () => {
    const before = await lastSeq();
    const batches = ((await farm.devices.listReadings(device)).items).length;
    await rejectsWith(farm.devices.submitReadings(signPayload(key.privateKey, device, Buffer.from('{"seq": 1,'))), 'ERR_VALIDATION', /not valid JSON/);
    const other = signReadings(key.privateKey, { deviceId: 'truck-9', seq: before + 1, readings: climate(20) });
    await rejectsWith(farm.devices.submitReadings({ ...other, deviceId: device }), 'ERR_VALIDATION', new RegExp(`device truck-9's, not ${device}'s`));
    const noReadings = Buffer.from(JSON.stringify({ deviceId: device, seq: before + 1, readings: [] }));
    await rejectsWith(farm.devices.submitReadings(signPayload(key.privateKey, device, noReadings)), 'ERR_VALIDATION', /readings/);
    expect(await lastSeq()).to.equal(before);
    expect((await farm.devices.listReadings(device)).items).to.have.length(batches);
    await submit(farm, key.privateKey, before + 1, climate(20));
  });

  it('refuses the old key after a rotation, and accepts the new one', async () => {
    const seq = (await lastSeq()) + 1;
    const next = newKey();
    await rejectsWith(factory.devices.rotateDeviceKey({ deviceId: device, publicKeyPem: next.publicKeyPem }), 'ERR_FORBIDDEN');
    const rotated = await farm.devices.rotateDeviceKey({ deviceId: device, publicKeyPem: next.publicKeyPem });
    expect(rotated.keyVersion).to.equal(2);
    await rejectsWith(submit(farm, key.privateKey, seq, climate(20)), 'ERR_SIGNATURE');
    expect(await lastSeq()).to.equal(seq - 1);
    await submit(farm, next.privateKey, seq, climate(20));
  });

  it('refuses a disabled device until it is enabled again', async () => {
    const seq = (await lastSeq()) + 1;
    await farm.devices.setDeviceStatus({ deviceId: device, status: 'disabled' });
    await rejectsWith(submit(farm, key.privateKey, seq, climate(20)), 'ERR_STATE', /disabled/);
    expect(await lastSeq()).to.equal(seq - 1);
    await farm.devices.setDeviceStatus({ deviceId: device, status: 'active' });
    await submit(farm, key.privateKey, seq, climate(20));
  });

  it('refuses readings for a task of other orgs, and readings submitted by another org than the owner', async () => {
    await net.clients.brand.process.defineTemplate({ id: 'plantation_only', version: 1, name: 'p', category: 'tea', stages: [{ stage: 'tea_plantation', after: [] }], rules: [], scanAlertThreshold: 5, publicView: {} });
    await net.clients.brand.trace.createTask({ taskId: 'farm-only', template: 'plantation_only', version: 1, product: { gtin: TEA_GTIN, name: 't' }, lot: 'F', plannedQuantity: 1, unit: 'kg', assignments: { tea_plantation: ORGS.farm } });
    const truck = newKey();
    await factory.devices.registerDevice({ deviceId: 'truck-1', type: 'gps', publicKeyPem: truck.publicKeyPem, thresholds: { speed_kmh: { max: 100 } } });
    const reading: Reading[] = [{ at: clock.at(10), metric: 'speed_kmh', value: 60, unit: 'km/h', lat: 22, lon: 100.5 }];
    await rejectsWith(submit(factory, truck.privateKey, 1, reading, 'farm-only', 'truck-1'), 'ERR_FORBIDDEN', /no stage assigned to Org3MSP/);
    await rejectsWith(submit(farm, truck.privateKey, 1, reading, undefined, 'truck-1'), 'ERR_FORBIDDEN', /belongs to Org3MSP/);
    expect(await lastSeq('truck-1')).to.equal(0);
    await rejectsWith(farm.devices.registerDevice({ deviceId: 'bad-key', type: 'gps', publicKeyPem: '-----BEGIN PUBLIC KEY-----\n' + 'A'.repeat(120) + '\n-----END PUBLIC KEY-----', thresholds: {} }), 'ERR_VALIDATION');
    await rejectsWith(farm.devices.registerDevice({ deviceId: 'bad-thr', type: 'gps', publicKeyPem: truck.publicKeyPem, thresholds: { speed_kmh: { min: 5, max: 1 } } }), 'ERR_VALIDATION', /min is greater than max/);
  });

  it('links a code read by an RFID gate to the place and time', async () => {
    const code = codeHash(generateCode());
    const gate = newKey();
    await factory.devices.registerDevice({ deviceId: 'gate-1', type: 'rfid', publicKeyPem: gate.publicKeyPem, thresholds: {} });
    const stream = await factory.ledger.chaincodeEvents();
    const r = await submit(factory, gate.privateKey, 1, [{ at: clock.at(20), metric: 'rfid_read', value: 1, unit: 'read', lat: 21.96, lon: 100.45, code }], undefined, 'gate-1');
    for await (const ev of stream) {
      if (ev.eventName !== 'devices.ReadingsSubmitted') continue;
      const payload = JSON.parse(Buffer.from(ev.payload).toString()) as { batch: { digest: string }; codeLinks: object[] };
      if (payload.batch.digest !== r.digest) continue;
      expect(payload.codeLinks).to.deep.equal([{ codeHash: code, at: clock.at(20), lat: 21.96, lon: 100.45 }]);
      break;
    }
    stream.close();
  });

  it('runs the device simulator: a cellar with one heat excursion raises exactly one alarm', async () => {
    const keyPath = join(mkdtempSync(join(tmpdir(), 'dev-')), 'sim.key');
    const alarms = await simulateDevice(farm, { deviceId: 'sim-cellar', keyPath, scenario: 'cellar', taskId: 'dev-tea', batches: 3, readingsPerBatch: 12, startMs: Date.parse(clock.at(300)) });
    expect(alarms).to.have.length(1);
    expect((await farm.devices.getDevice('sim-cellar')).lastSeq).to.equal(3);
    // Same key file, next run continues the sequence.
    await simulateDevice(farm, { deviceId: 'sim-cellar', keyPath, scenario: 'cellar', batches: 1, readingsPerBatch: 4, startMs: Date.parse(clock.at(400)) });
    expect((await farm.devices.getDevice('sim-cellar')).lastSeq).to.equal(4);
    const gps = await simulateDevice(factory, { deviceId: 'sim-truck', keyPath: keyPath + '.gps', scenario: 'gps', batches: 2, readingsPerBatch: 10, startMs: Date.parse(clock.at(300)) });
    expect(gps).to.deep.equal([]);
  });
});
