import { ChainBlock, EventStream, TbaasLedger } from '@trace/client';
import { ChainSource } from './source';

/**
 * Blocks from Tencent Cloud TBaaS: DescribeFabricBlock walked upward from `from`, every
 * transaction read with DescribeFabricTransaction, polling at the head. Each block is rebuilt and
 * checked against TBaaS's BlockHash before it is yielded, and blocks come in order, each once, so
 * the Ingestor's checkpoint (blocks and projections in one SQLite transaction) holds as over the
 * gateway. TBaaS has no push delivery: new blocks arrive within the ledger's poll interval.
 */
export class TbaasSource implements ChainSource {
  constructor(private readonly ledger: TbaasLedger) {}

  blocks(from: bigint): Promise<EventStream<ChainBlock>> {
    return this.ledger.blocks(from);
  }
}
