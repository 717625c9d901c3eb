import { common, msp, peer } from '@hyperledger/fabric-protos';
import { createHash } from 'node:crypto';
import { ChainBlock, ChainEvent, ChainTransaction, Checkpoint, EventStream } from './ledger';

const codeNames = new Map<number, string>(Object.entries(peer.TxValidationCode).map(([k, v]) => [v as number, k]));

/** Fabric's name for a transaction validation code (VALID, MVCC_READ_CONFLICT …). */
export function codeName(code: number): string {
  return codeNames.get(code) ?? String(code);
}

function derTlv(tag: number, body: Buffer): Buffer {
  const len = body.length < 0x80 ? Buffer.from([body.length]) : Buffer.from([0x81 + (body.length > 0xff ? 1 : 0), ...(body.length > 0xff ? [body.length >> 8] : []), body.length & 0xff]);
  return Buffer.concat([Buffer.from([tag]), len, body]);
}

/** Fabric's block hash: SHA-256 of DER SEQUENCE{number, previous_hash, data_hash}. */
export function blockHash(header: common.BlockHeader): string {
  let hex = BigInt(header.getNumber()).toString(16);
  if (hex.length % 2) hex = '0' + hex;
  let num = Buffer.from(hex, 'hex');
  if (num[0] & 0x80) num = Buffer.concat([Buffer.from([0]), num]);
  const der = derTlv(
    0x30,
    Buffer.concat([derTlv(0x02, num), derTlv(0x04, Buffer.from(header.getPreviousHash_asU8())), derTlv(0x04, Buffer.from(header.getDataHash_asU8()))]),
  );
  return createHash('sha256').update(der).digest('hex');
}

/** One envelope of a block with its validation code name; undefined for non-endorser (config) envelopes. */
export function parseTransaction(envBytes: Uint8Array, validationCode: string): ChainTransaction | undefined {
  try {
    const payload = common.Payload.deserializeBinary(common.Envelope.deserializeBinary(envBytes).getPayload_asU8());
    const header = payload.getHeader()!;
    const ch = common.ChannelHeader.deserializeBinary(header.getChannelHeader_asU8());
    if (ch.getType() !== common.HeaderType.ENDORSER_TRANSACTION) return undefined;
    const sh = common.SignatureHeader.deserializeBinary(header.getSignatureHeader_asU8());
    const tx: ChainTransaction = {
      transactionId: ch.getTxId(),
      validationCode,
      creatorMspId: msp.SerializedIdentity.deserializeBinary(sh.getCreator_asU8()).getMspid(),
      timestampMs: ch.getTimestamp()?.toDate().getTime() ?? 0,
    };
    const action = peer.Transaction.deserializeBinary(payload.getData_asU8()).getActionsList()[0];
    const cap = peer.ChaincodeActionPayload.deserializeBinary(action.getPayload_asU8());
    const prp = peer.ProposalResponsePayload.deserializeBinary(cap.getAction()!.getProposalResponsePayload_asU8());
    const cca = peer.ChaincodeAction.deserializeBinary(prp.getExtension_asU8());
    tx.chaincodeName = cca.getChaincodeId()?.getName();
    if (cca.getEvents_asU8().length > 0) {
      const ev = peer.ChaincodeEvent.deserializeBinary(cca.getEvents_asU8());
      tx.event = { name: ev.getEventName(), payload: ev.getPayload_asU8() };
    }
    return tx;
  } catch {
    // An unparsable envelope is recorded by the peer as invalid; it carries nothing to index.
    return { transactionId: '', validationCode, creatorMspId: '', timestampMs: 0 };
  }
}

/** The parts of a common.Block that consumers index: header hashes and each transaction's outcome. */
export function parseBlock(block: common.Block): ChainBlock {
  const header = block.getHeader()!;
  const filter = block.getMetadata()!.getMetadataList_asU8()[common.BlockMetadataIndex.TRANSACTIONS_FILTER] ?? new Uint8Array(0);
  const transactions: ChainTransaction[] = [];
  block
    .getData()!
    .getDataList_asU8()
    .forEach((env, i) => {
      const tx = parseTransaction(env, codeName(filter[i] ?? peer.TxValidationCode.NOT_VALIDATED));
      if (tx) transactions.push(tx);
    });
  return {
    number: BigInt(header.getNumber()),
    hash: blockHash(header),
    previousHash: Buffer.from(header.getPreviousHash_asU8()).toString('hex'),
    dataHash: Buffer.from(header.getDataHash_asU8()).toString('hex'),
    transactions,
  };
}

/**
 * The chaincode events of valid transactions of one chaincode in a block stream that starts at
 * the checkpoint's block, resuming after its transaction (for transports without the Gateway's
 * ChaincodeEvents: TBaaS, pre-2.4 peers).
 */
export function chaincodeEventsFromBlocks(blocks: EventStream<ChainBlock>, chaincode: string, checkpoint?: Checkpoint): EventStream<ChainEvent> {
  return {
    close: () => blocks.close(),
    async *[Symbol.asyncIterator]() {
      let skipUntil = checkpoint?.transactionId;
      for await (const block of blocks) {
        for (const tx of block.transactions) {
          if (skipUntil !== undefined && block.number === checkpoint!.blockNumber) {
            if (tx.transactionId === skipUntil) skipUntil = undefined;
            continue;
          }
          if (tx.validationCode !== 'VALID' || !tx.event || tx.chaincodeName !== chaincode) continue;
          yield { blockNumber: block.number, transactionId: tx.transactionId, eventName: tx.event.name, payload: tx.event.payload };
        }
        skipUntil = undefined;
      }
    },
  };
}
