import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { FabricGatewayLedger, identityFromFiles, TraceChainClient } from '@trace/client';
import { RunningDevnet, startDevnet } from '@trace/test-network';

export interface ProductBench {
  devnet: RunningDevnet;
  /** Org1MSP User1 */
  client: TraceChainClient;
}

/**
 * Runs a benchmark body against a fresh devnet with the product chaincode (default policy), and
 * removes the devnet afterwards; a failure ends the process with exit code 1.
 */
export function runProductBench(body: (b: ProductBench) => Promise<void>): void {
  (async () => {
    const devnet = await startDevnet(['--chaincode-path', resolve(__dirname, '../../../../chaincode'), '--chaincode-name', 'trace']);
    const user = devnet.user('Org1MSP', 'User1');
    const ledger = FabricGatewayLedger.connect({ endpoint: devnet.endpoint, channel: devnet.channel, chaincode: 'trace', identity: identityFromFiles('Org1MSP', user.certPath, user.keyPath) });
    try {
      await body({ devnet, client: new TraceChainClient(ledger) });
    } finally {
      ledger.close();
      await devnet.stop();
      rmSync(devnet.dataDir, { recursive: true, force: true });
    }
  })().catch((e: Error) => {
    console.error(e);
    process.exit(1);
  });
}
