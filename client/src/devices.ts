import { createPrivateKey, createPublicKey, generateKeyPairSync, KeyObject, sign } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { ReadingDto, SignedReadingsDto, SubmitReadingsDto } from '@trace/chaincode';
import { Input, TraceChainClient } from './contracts';
import { LedgerError } from './errors';

export type Reading = Input<ReadingDto>;

/**
 * Signs a batch as a device does: ECDSA P-256 over the payload bytes, sent as they are (base64);
 * the chaincode verifies those bytes and parses them, so any JSON serialisation will do.
 */
export function signReadings(privateKey: KeyObject | string, batch: Input<SignedReadingsDto>): Input<SubmitReadingsDto> {
  return signPayload(privateKey, batch.deviceId, Buffer.from(JSON.stringify(batch)));
}

/** Wraps bytes a device serialised and signs them: for firmware-made payloads and tests of them. */
export function signPayload(privateKey: KeyObject | string, deviceId: string, payload: Buffer): Input<SubmitReadingsDto> {
  const key = typeof privateKey === 'string' ? createPrivateKey(privateKey) : privateKey;
  const signature = sign('sha256', payload, { key, dsaEncoding: 'der' }).toString('base64');
  return { deviceId, payload: payload.toString('base64'), signature };
}

/** A device key kept in a PEM file (created on first use, mode 0600). */
export function deviceKey(path: string): { privateKey: KeyObject; publicKeyPem: string } {
  if (!existsSync(path)) {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(path, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  }
  const privateKey = createPrivateKey(readFileSync(path));
  return { privateKey, publicKeyPem: createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString() };
}

export interface SimulationOptions {
  deviceId: string;
  keyPath: string;
  scenario: 'cellar' | 'gps';
  taskId?: string;
  batches: number;
  readingsPerBatch: number;
  /** start of the simulated readings */
  startMs: number;
}

const CELLAR_THRESHOLDS = { storage_temp_c: { min: 10, max: 25 }, storage_humidity_pct: { min: 60, max: 85 } };

/** The readings of one batch: cellar climate every 10 minutes with one heat excursion, or a truck's GPS track. */
export function simulatedReadings(o: SimulationOptions, batch: number): Reading[] {
  const out: Reading[] = [];
  for (let i = 0; i < o.readingsPerBatch; i++) {
    const n = batch * o.readingsPerBatch + i;
    const at = new Date(o.startMs + n * 600_000).toISOString();
    if (o.scenario === 'cellar') {
      const excursion = batch === 0 && i === Math.floor(o.readingsPerBatch / 2);
      out.push({ at, metric: 'storage_temp_c', value: excursion ? 31.5 : 18 + Math.sin(n / 6), unit: '°C' });
      out.push({ at, metric: 'storage_humidity_pct', value: 70 + 5 * Math.cos(n / 9), unit: '%' });
    } else {
      // Menghai → Kunming, about 480 km.
      const f = n / Math.max(1, o.batches * o.readingsPerBatch - 1);
      out.push({ at, metric: 'speed_kmh', value: 60 + 20 * Math.sin(n), unit: 'km/h', lat: 21.96 + f * (25.04 - 21.96), lon: 100.45 + f * (102.71 - 100.45) });
    }
  }
  return out;
}

/**
 * Runs a device: registers it (with its key file) if the chain does not know it yet, then signs and
 * submits `batches` batches with increasing seq. Returns the alarms the chain raised.
 */
export async function simulateDevice(client: TraceChainClient, o: SimulationOptions, progress: (batch: number, alarms: string[]) => void = () => undefined): Promise<string[]> {
  const { privateKey, publicKeyPem } = deviceKey(o.keyPath);
  let lastSeq = 0;
  try {
    lastSeq = (await client.devices.getDevice(o.deviceId)).lastSeq;
  } catch (e) {
    if (!(e instanceof LedgerError) || e.code !== 'ERR_NOT_FOUND') throw e;
    await client.devices.registerDevice({ deviceId: o.deviceId, type: o.scenario === 'gps' ? 'gps' : 'multi', publicKeyPem, thresholds: o.scenario === 'cellar' ? CELLAR_THRESHOLDS : { speed_kmh: { max: 120 } } });
  }
  const alarms: string[] = [];
  for (let b = 0; b < o.batches; b++) {
    const result = await client.devices.submitReadings(signReadings(privateKey, { deviceId: o.deviceId, seq: lastSeq + b + 1, taskId: o.taskId, readings: simulatedReadings(o, b) }));
    alarms.push(...result.alarms);
    progress(b + 1, result.alarms);
  }
  return alarms;
}
