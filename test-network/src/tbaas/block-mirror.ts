import { common } from '@hyperledger/fabric-protos';
import { summarize, TxSummary } from '../devnet/ledger/ledger';
import { parseEnvelope, ParsedTx, TxCodeValue } from '../devnet/ledger/transaction';

export interface MirroredTx {
  block: number;
  index: number;
  envelope: Uint8Array;
  parsed?: ParsedTx;
  code: TxCodeValue;
}

/**
 * The emulator's copy of the devnet's channel, block by block as Deliver hands them over: the cloud
 * API answers from it and the access address serves Deliver from it (it has what Deliver reads).
 */
export class BlockMirror {
  private readonly blocks: common.Block[] = [];
  private readonly summaries: TxSummary[][] = [];
  private readonly txs = new Map<string, MirroredTx>();
  private waiters: (() => void)[] = [];

  constructor(readonly channelId: string) {}

  get height(): number {
    return this.blocks.length;
  }

  block(n: number): common.Block {
    const b = this.blocks[n];
    if (!b) throw new Error(`block ${n} is not in the mirror`);
    return b;
  }

  summary(n: number): TxSummary[] {
    this.block(n);
    return this.summaries[n];
  }

  tx(txId: string): MirroredTx | undefined {
    return this.txs.get(txId);
  }

  add(block: common.Block): void {
    const number = this.blocks.length;
    const filter = block.getMetadata()?.getMetadataList_asU8()[common.BlockMetadataIndex.TRANSACTIONS_FILTER] ?? new Uint8Array(0);
    const summary: TxSummary[] = [];
    block
      .getData()!
      .getDataList_asU8()
      .forEach((envelope, index) => {
        const r = parseEnvelope(envelope);
        const code = (filter[index] ?? 254) as TxCodeValue;
        summary.push(summarize(r.tx, code));
        // A later duplicate of a tx id keeps the first (valid) one, as the ledger's tx index does.
        if (r.txId && !this.txs.has(r.txId)) this.txs.set(r.txId, { block: number, index, envelope, parsed: r.tx, code });
      });
    this.blocks.push(block);
    this.summaries.push(summary);
    const waiters = this.waiters;
    this.waiters = [];
    waiters.forEach((w) => w());
  }

  async waitForBlock(n: number): Promise<void> {
    while (this.blocks.length <= n) await new Promise<void>((r) => this.waiters.push(r));
  }
}
