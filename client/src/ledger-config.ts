import { readFileSync } from 'node:fs';
import { ledgerFromProfile } from './fabric-gateway';
import { Ledger } from './ledger';
import { loadTbaasConfig, TbaasLedger } from './tbaas';

/**
 * A ledger from a configuration file: a TBaaS client file (`"type": "tbaas"`, credentials may come
 * from the environment) gives a TbaasLedger; any other file is a gateway connection profile, where
 * msp and user choose the identity. `log` receives the TBaaS transport's retries.
 */
export function ledgerFromConfig(path: string, opts: { msp?: string; user?: string; log?: { warn(obj: object): void } } = {}): Ledger {
  const kind = (JSON.parse(readFileSync(path, 'utf8')) as { type?: string }).type;
  return kind === 'tbaas' ? new TbaasLedger({ ...loadTbaasConfig(path), log: opts.log }) : ledgerFromProfile(path, opts);
}
