import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Where the devnet keeps things under its data directory, and what it records about its last
 * start in devnet.json. Clients use the common connection profiles (connection-<org>.json); this is
 * for the devnet's own companions (its tests, spawn, the TBaaS emulator) that reach its files directly.
 */

/** An org's domain, as cryptogen names them: Org1MSP → org1.example.com. */
export function domainOf(mspId: string): string {
  return mspId.replace(/MSP$/, '').toLowerCase() + '.example.com';
}

/** connection-org1.json for Org1MSP, as fabric-samples' test-network names them. */
export function profileFileName(mspId: string): string {
  return `connection-${mspId.replace(/MSP$/, '').toLowerCase()}.json`;
}

export type TlsMode = 'none' | 'tls' | 'mtls';

/** The devnet's config (fixed once the data directory exists) and its last start. */
export interface DevnetRecord {
  channel: string;
  orgs: string[];
  chaincode?: string;
  tls?: TlsMode;
  /** each org's peer host:port at the last start */
  peers?: Record<string, string>;
}

export interface UserFiles {
  mspId: string;
  /** MSP directory: signcerts/cert.pem, keystore/priv_sk, cacerts/ca.pem */
  mspDir: string;
  certPath: string;
  keyPath: string;
  /** TLS client certificate from the org's TLS CA (mutual TLS) */
  tlsCertPath: string;
  tlsKeyPath: string;
}

export interface PeerAccess {
  endpoint: string;
  /** the org's TLS CA certificate, when the devnet speaks TLS */
  tlsCaPath?: string;
  serverName: string;
}

/** What a companion of a devnet needs to reach it as one of its users. */
export interface DevnetAccess {
  dataDir: string;
  channel: string;
  chaincode: string;
  orgs: string[];
  tls: TlsMode;
  /** where a user's files are (whether or not they exist) */
  user(mspId: string, name?: string): UserFiles;
  peer(mspId: string): PeerAccess;
}

export function userFiles(dataDir: string, mspId: string, name: string): UserFiles {
  const dir = join(dataDir, 'crypto', mspId, 'users', name);
  return {
    mspId,
    mspDir: join(dir, 'msp'),
    certPath: join(dir, 'msp', 'signcerts', 'cert.pem'),
    keyPath: join(dir, 'msp', 'keystore', 'priv_sk'),
    tlsCertPath: join(dir, 'tls', 'client.crt'),
    tlsKeyPath: join(dir, 'tls', 'client.key'),
  };
}

export function tlsCaPath(dataDir: string, mspId: string): string {
  return join(dataDir, 'crypto', mspId, 'tlsca', 'ca.pem');
}

/** Access to the devnet last started in dataDir, from its devnet.json. */
export function devnetAccess(dataDir: string): DevnetAccess {
  const path = join(dataDir, 'devnet.json');
  if (!existsSync(path)) throw new Error(`no devnet in ${dataDir} (${path} is missing)`);
  const rec = JSON.parse(readFileSync(path, 'utf8')) as DevnetRecord;
  if (!rec.chaincode || !rec.peers) throw new Error(`the devnet in ${dataDir} has not started yet`);
  const peers = rec.peers;
  const tls = rec.tls ?? 'none';
  return {
    dataDir,
    channel: rec.channel,
    chaincode: rec.chaincode,
    orgs: rec.orgs,
    tls,
    user: (mspId, name = 'User1') => userFiles(dataDir, mspId, name),
    peer: (mspId) => {
      if (!peers[mspId]) throw new Error(`unknown org ${mspId}`);
      return { endpoint: peers[mspId], tlsCaPath: tls === 'none' ? undefined : tlsCaPath(dataDir, mspId), serverName: `peer0.${domainOf(mspId)}` };
    },
  };
}
