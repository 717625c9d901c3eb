import type { ServerDuplexStream } from '@grpc/grpc-js';
import { peer } from '@hyperledger/fabric-protos';
import { Simulator, SimulationError } from './simulator';

const T = peer.ChaincodeMessage.Type;
type Stream = ServerDuplexStream<peer.ChaincodeMessage, peer.ChaincodeMessage>;

export type ExecResult =
  | { kind: 'completed'; response: peer.Response; event?: peer.ChaincodeEvent }
  | { kind: 'failed'; message: string };

interface Context {
  simulator: Simulator;
  resolve: (r: ExecResult) => void;
  timer: NodeJS.Timeout;
}

/** One registered chaincode process: runs transactions over its ChaincodeSupport stream. */
export class ChaincodeConnection {
  private readonly contexts = new Map<string, Context>();
  private closed = false;

  constructor(
    private readonly stream: Stream,
    readonly onClose: () => void,
  ) {
    stream.on('data', (msg: peer.ChaincodeMessage) => this.onMessage(msg));
    const end = () => this.close('chaincode stream terminated');
    stream.on('end', end);
    stream.on('error', end);
    stream.on('close', end);
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  /** Sends TRANSACTION and serves the chaincode's requests until COMPLETED or ERROR. */
  execute(channelId: string, txId: string, input: Uint8Array, proposal: peer.SignedProposal, simulator: Simulator, timeoutMs: number): Promise<ExecResult> {
    if (this.closed) return Promise.resolve({ kind: 'failed', message: 'chaincode stream terminated' });
    const id = channelId + txId;
    if (this.contexts.has(id)) {
      return Promise.resolve({ kind: 'failed', message: `transaction ${txId} is already executing on this peer` });
    }
    return new Promise<ExecResult>((resolve) => {
      const timer = setTimeout(() => {
        this.contexts.delete(id);
        resolve({ kind: 'failed', message: `failed to execute transaction ${txId}: error sending: timeout expired while executing transaction` });
      }, timeoutMs);
      this.contexts.set(id, { simulator, resolve, timer });
      const msg = new peer.ChaincodeMessage();
      msg.setType(T.TRANSACTION);
      msg.setPayload(input);
      msg.setTxid(txId);
      msg.setChannelId(channelId);
      msg.setProposal(proposal);
      this.stream.write(msg);
    });
  }

  private finish(id: string, result: ExecResult): void {
    const ctx = this.contexts.get(id);
    if (!ctx) return;
    clearTimeout(ctx.timer);
    this.contexts.delete(id);
    ctx.resolve(result);
  }

  private reply(req: peer.ChaincodeMessage, type: number, payload: Uint8Array): void {
    const msg = new peer.ChaincodeMessage();
    msg.setType(type as peer.ChaincodeMessage.TypeMap[keyof peer.ChaincodeMessage.TypeMap]);
    msg.setPayload(payload);
    msg.setTxid(req.getTxid());
    msg.setChannelId(req.getChannelId());
    if (!this.closed) this.stream.write(msg);
  }

  private onMessage(msg: peer.ChaincodeMessage): void {
    const id = msg.getChannelId() + msg.getTxid();
    const type = msg.getType();
    if (type === T.COMPLETED) {
      let response: peer.Response;
      try {
        response = peer.Response.deserializeBinary(msg.getPayload_asU8());
      } catch {
        this.finish(id, { kind: 'failed', message: 'chaincode sent a malformed COMPLETED payload' });
        return;
      }
      this.finish(id, { kind: 'completed', response, event: msg.getChaincodeEvent() });
      return;
    }
    if (type === T.ERROR) {
      this.finish(id, { kind: 'failed', message: Buffer.from(msg.getPayload_asU8()).toString('utf8') });
      return;
    }
    const ctx = this.contexts.get(id);
    if (!ctx) {
      this.reply(msg, T.ERROR, Buffer.from(`${typeName(type)} failed: transaction ID: ${msg.getTxid()}: no ongoing transaction`));
      return;
    }
    try {
      this.reply(msg, T.RESPONSE, this.serve(ctx.simulator, type, msg.getPayload_asU8()));
    } catch (e) {
      const cause = e instanceof SimulationError ? e.message : `malformed ${typeName(type)} request`;
      this.reply(msg, T.ERROR, Buffer.from(`${typeName(type)} failed: transaction ID: ${msg.getTxid()}: ${cause}`));
    }
  }

  private serve(sim: Simulator, type: number, payload: Uint8Array): Uint8Array {
    const none = new Uint8Array(0);
    switch (type) {
      case T.GET_STATE: {
        const req = peer.GetState.deserializeBinary(payload);
        noCollection(req.getCollection());
        return sim.getState(req.getKey());
      }
      case T.PUT_STATE: {
        const req = peer.PutState.deserializeBinary(payload);
        noCollection(req.getCollection());
        sim.putState(req.getKey(), req.getValue_asU8());
        return none;
      }
      case T.DEL_STATE: {
        const req = peer.DelState.deserializeBinary(payload);
        noCollection(req.getCollection());
        sim.delState(req.getKey());
        return none;
      }
      case T.GET_STATE_METADATA: {
        const req = peer.GetStateMetadata.deserializeBinary(payload);
        noCollection(req.getCollection());
        return sim.getStateMetadata(req.getKey()).serializeBinary();
      }
      case T.PUT_STATE_METADATA: {
        const req = peer.PutStateMetadata.deserializeBinary(payload);
        noCollection(req.getCollection());
        const md = req.getMetadata();
        if (!md) throw new SimulationError('metadata is required');
        sim.putStateMetadata(req.getKey(), md.getMetakey(), md.getValue_asU8());
        return none;
      }
      case T.GET_STATE_BY_RANGE: {
        const req = peer.GetStateByRange.deserializeBinary(payload);
        noCollection(req.getCollection());
        return sim.getStateByRange(req.getStartkey(), req.getEndkey(), req.getMetadata_asU8()).serializeBinary();
      }
      case T.QUERY_STATE_NEXT:
        return sim.queryNext(peer.QueryStateNext.deserializeBinary(payload).getId()).serializeBinary();
      case T.QUERY_STATE_CLOSE:
        return sim.queryClose(peer.QueryStateClose.deserializeBinary(payload).getId()).serializeBinary();
      case T.GET_HISTORY_FOR_KEY:
        return sim.getHistoryForKey(peer.GetHistoryForKey.deserializeBinary(payload).getKey()).serializeBinary();
      case T.GET_QUERY_RESULT: {
        const req = peer.GetQueryResult.deserializeBinary(payload);
        throw new SimulationError(req.getMetadata_asU8().length ? 'ExecuteQueryWithMetadata not supported for leveldb' : 'ExecuteQuery not supported for leveldb');
      }
      case T.GET_PRIVATE_DATA_HASH:
      case T.PURGE_PRIVATE_DATA:
        throw new SimulationError('private data collections are not configured on this channel');
      case T.INVOKE_CHAINCODE:
        throw new SimulationError('chaincode-to-chaincode invocation is not supported by the devnet');
      default:
        throw new SimulationError(`unsupported message type ${typeName(type)}`);
    }
  }

  /** Fails every transaction in flight (the stream is gone) and stops accepting new ones. */
  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    for (const id of [...this.contexts.keys()]) this.finish(id, { kind: 'failed', message: reason });
    try {
      this.stream.end();
    } catch {
      // already closed
    }
    this.onClose();
  }
}

function noCollection(collection: string): void {
  if (collection) throw new SimulationError(`collection ${collection} is not defined on this channel`);
}

function typeName(type: number): string {
  for (const [name, value] of Object.entries(T)) if (value === type) return name;
  return String(type);
}
