import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ledgerFromConfig, TraceChainClient } from '@trace/client';
import { startDevnet } from '@trace/test-network';
import { BenchTarget, devnetTarget, measuredText, networkChaincode, networkTarget } from './target';

export interface ProductBench {
  target: BenchTarget;
  /** the first org's User1 */
  client: TraceChainClient;
  /** the second org's User1 */
  partner: TraceChainClient;
  /** the benchmark's positional arguments (counts) */
  args: string[];
}

/**
 * Runs a benchmark body against a fresh devnet with the product chaincode (default policy), removed
 * afterwards, or with `--connection <profile>` (repeatable) against an existing network whose
 * chaincode was freshly deployed (the setup founds a consortium); there the chaincode's CPU is
 * measured only from `--chaincode-pids 123,456 --endorsements 2`. `--chaincode-path DIR` runs the
 * devnet with another build of the chaincode (to compare two commits). A failure exits with code 1.
 */
export function runProductBench(body: (b: ProductBench) => Promise<void>): void {
  (async () => {
    const { values, positionals } = parseArgs({
      options: { connection: { type: 'string', multiple: true }, 'chaincode-pids': { type: 'string' }, endorsements: { type: 'string' }, 'chaincode-path': { type: 'string' } },
      allowPositionals: true,
    });
    const chaincode = networkChaincode(values['chaincode-pids'], values.endorsements);
    const devnet = values.connection ? undefined : await startDevnet(['--chaincode-path', resolve(values['chaincode-path'] ?? resolve(__dirname, '../../../../chaincode')), '--chaincode-name', 'trace']);
    const target = devnet ? devnetTarget(devnet) : networkTarget(values.connection!, chaincode);
    console.log(devnet ? `devnet on ${devnet.endpoint}` : `existing network: ${target.orgs.map((o) => `${o} through ${target.profileFor(o)}`).join(', ')}; ${measuredText(target)}`);
    const [ledger, partnerLedger] = target.orgs.map((msp) => ledgerFromConfig(target.profileFor(msp), { msp, user: 'User1' }));
    try {
      await body({ target, client: new TraceChainClient(ledger), partner: new TraceChainClient(partnerLedger), args: positionals });
    } finally {
      ledger.close();
      partnerLedger.close();
      if (devnet) {
        await devnet.stop();
        rmSync(devnet.dataDir, { recursive: true, force: true });
      }
    }
  })().catch((e: Error) => {
    console.error(e);
    process.exit(1);
  });
}
