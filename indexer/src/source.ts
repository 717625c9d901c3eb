import { ChainBlock, EventStream, Ledger } from '@trace/client';

/** Where the indexer reads blocks from: a stream of parsed blocks starting at a given number. */
export interface ChainSource {
  blocks(from: bigint): Promise<EventStream<ChainBlock>>;
}

/** Block events through the Fabric Gateway (devnet or any Fabric 2.4+ network). */
export class GatewaySource implements ChainSource {
  constructor(private readonly ledger: Ledger) {}

  blocks(from: bigint): Promise<EventStream<ChainBlock>> {
    return this.ledger.blocks(from);
  }
}
