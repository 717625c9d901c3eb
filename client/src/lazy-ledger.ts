import { ChainBlock, ChainEvent, Checkpoint, EventStream, Ledger, SubmitResult } from './ledger';

/**
 * A Ledger whose transport connects asynchronously (fabric-network's gateway does), handed out
 * at once: every call waits for the connection, and a failed connection fails each call with
 * its error.
 */
export function lazyLedger(chaincodeName: string, channelName: string, connect: () => Promise<Ledger>): Ledger {
  const ready = connect();
  // A connection that fails is reported by the calls that wait for it, not as an unhandled rejection.
  ready.catch(() => undefined);
  return {
    chaincodeName,
    channelName,
    submit: async (transaction: string, ...args: (string | Uint8Array)[]): Promise<SubmitResult> => (await ready).submit(transaction, ...args),
    evaluate: async (transaction: string, ...args: (string | Uint8Array)[]): Promise<Uint8Array> => (await ready).evaluate(transaction, ...args),
    chaincodeEvents: async (checkpoint?: Checkpoint): Promise<EventStream<ChainEvent>> => (await ready).chaincodeEvents(checkpoint),
    blocks: async (startBlock?: bigint): Promise<EventStream<ChainBlock>> => (await ready).blocks(startBlock),
    close: () => void ready.then((l) => l.close(), () => undefined),
  };
}
