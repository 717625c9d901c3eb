/** A position in the chain to resume event delivery from; the caller stores it. */
export interface Checkpoint {
  /** the block to start in */
  blockNumber: bigint;
  /** for chaincode events: the last transaction already processed in that block */
  transactionId?: string;
}

export interface SubmitResult {
  transactionId: string;
  blockNumber: bigint;
  /** the chaincode's return value */
  result: Uint8Array;
}

export interface ChainEvent {
  blockNumber: bigint;
  transactionId: string;
  eventName: string;
  payload: Uint8Array;
}

export interface ChainTransaction {
  transactionId: string;
  /** Fabric validation code name, e.g. VALID, MVCC_READ_CONFLICT */
  validationCode: string;
  creatorMspId: string;
  /** transaction timestamp (client time in the channel header), ms since epoch */
  timestampMs: number;
  chaincodeName?: string;
  event?: { name: string; payload: Uint8Array };
}

export interface ChainBlock {
  number: bigint;
  /** hex SHA-256 of the header, as Fabric chains blocks */
  hash: string;
  previousHash: string;
  dataHash: string;
  transactions: ChainTransaction[];
}

/** An async stream of items that stops delivering once closed. */
export interface EventStream<T> extends AsyncIterable<T> {
  close(): void;
}

/**
 * The transport every part of the product talks to the chain through: submit and evaluate
 * transactions of the product's chaincode, and read events and blocks from a checkpoint.
 */
export interface Ledger {
  /** the chaincode this ledger submits to (events of other chaincodes on the channel are not its own) */
  readonly chaincodeName: string;
  /** the channel this ledger submits on (holders sign it into their requests) */
  readonly channelName: string;
  /** Endorses, orders and waits for the commit; throws LedgerError unless the transaction is VALID. */
  submit(transaction: string, ...args: (string | Uint8Array)[]): Promise<SubmitResult>;
  evaluate(transaction: string, ...args: (string | Uint8Array)[]): Promise<Uint8Array>;
  /** Chaincode events of valid transactions, resuming exactly after checkpoint (or only new ones). */
  chaincodeEvents(checkpoint?: Checkpoint): Promise<EventStream<ChainEvent>>;
  /** Blocks from startBlock on (default: only new ones), then live. */
  blocks(startBlock?: bigint): Promise<EventStream<ChainBlock>>;
  /**
   * Evaluates a query of one of Fabric's system chaincodes (qscc, cscc, _lifecycle) on the channel, answering its
   * protobuf bytes; absent where the transport has no such access (TBaaS's cloud API, fabric-network's).
   */
  querySystem?(chaincode: SystemChaincode, fn: string, ...args: (string | Uint8Array)[]): Promise<Uint8Array>;
  close(): void;
}

export type SystemChaincode = 'qscc' | 'cscc' | '_lifecycle';
