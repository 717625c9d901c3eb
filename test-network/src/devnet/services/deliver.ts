import { ServerDuplexStream, UntypedServiceImplementation } from '@grpc/grpc-js';
import { common, orderer, peer } from '@hyperledger/fabric-protos';
import type { Logger } from 'pino';
import { MspRegistry } from '../crypto/msp';
import { Ledger } from '../ledger/ledger';
import { cancellation, unlessCancelled, write } from './streams';

type Kind = 'block' | 'filtered' | 'private';
type Call = ServerDuplexStream<common.Envelope, peer.DeliverResponse>;

const Status = common.Status;
type StatusCode = common.StatusMap[keyof common.StatusMap];
const MAX_SKEW_MS = 15 * 60 * 1000;

/** What Deliver reads from a channel's chain: the devnet's ledger, or a copy of its blocks (the TBaaS emulator's). */
export type DeliverLedger = Pick<Ledger, 'channelId' | 'height' | 'block' | 'summary' | 'waitForBlock'>;

/** protos.Deliver: Deliver, DeliverFiltered and DeliverWithPrivateData, with peer semantics. */
export function deliverService(ledger: DeliverLedger, msps: MspRegistry, log: Logger): UntypedServiceImplementation {
  function filtered(n: number): peer.FilteredBlock {
    const fb = new peer.FilteredBlock();
    fb.setChannelId(ledger.channelId);
    fb.setNumber(n);
    fb.setFilteredTransactionsList(
      ledger.summary(n).map((tx) => {
        const ft = new peer.FilteredTransaction();
        ft.setTxid(tx.txId);
        ft.setType(tx.type as common.HeaderTypeMap[keyof common.HeaderTypeMap]);
        ft.setTxValidationCode(tx.code);
        if (tx.type === common.HeaderType.ENDORSER_TRANSACTION) {
          const actions = new peer.FilteredTransactionActions();
          if (tx.event) {
            const ev = new peer.ChaincodeEvent();
            ev.setChaincodeId(tx.event.getChaincodeId());
            ev.setTxId(tx.event.getTxId());
            ev.setEventName(tx.event.getEventName());
            const fca = new peer.FilteredChaincodeAction();
            fca.setChaincodeEvent(ev);
            actions.addChaincodeActions(fca);
          }
          ft.setTransactionActions(actions);
        }
        return ft;
      }),
    );
    return fb;
  }

  function response(kind: Kind, n: number): peer.DeliverResponse {
    const res = new peer.DeliverResponse();
    if (kind === 'filtered') res.setFilteredBlock(filtered(n));
    else if (kind === 'private') {
      const bpd = new peer.BlockAndPrivateData();
      bpd.setBlock(ledger.block(n));
      res.setBlockAndPrivateData(bpd);
    } else res.setBlock(ledger.block(n));
    return res;
  }

  function statusResponse(s: StatusCode): peer.DeliverResponse {
    const res = new peer.DeliverResponse();
    res.setStatus(s);
    return res;
  }

  /** Serves one SeekInfo; returns the final status, or undefined when the call went away. */
  async function seek(kind: Kind, env: common.Envelope, c: ReturnType<typeof cancellation>, call: Call): Promise<StatusCode | undefined> {
    let ch: common.ChannelHeader;
    let creator: Uint8Array;
    let seekInfo: orderer.SeekInfo;
    try {
      const payload = common.Payload.deserializeBinary(env.getPayload_asU8());
      const header = payload.getHeader()!;
      ch = common.ChannelHeader.deserializeBinary(header.getChannelHeader_asU8());
      creator = common.SignatureHeader.deserializeBinary(header.getSignatureHeader_asU8()).getCreator_asU8();
      seekInfo = orderer.SeekInfo.deserializeBinary(payload.getData_asU8());
    } catch {
      return Status.BAD_REQUEST;
    }
    const ts = ch.getTimestamp();
    if (!ts || Math.abs(ts.toDate().getTime() - Date.now()) > MAX_SKEW_MS) return Status.BAD_REQUEST;
    if (ch.getChannelId() !== ledger.channelId) return Status.NOT_FOUND;
    try {
      msps.verify(creator, env.getPayload_asU8(), env.getSignature_asU8());
    } catch {
      return Status.FORBIDDEN;
    }
    const start = seekInfo.getStart();
    const stop = seekInfo.getStop();
    if (!start || !stop) return Status.BAD_REQUEST;
    const P = orderer.SeekPosition.TypeCase;
    const height = ledger.height;
    let first: number;
    switch (start.getTypeCase()) {
      case P.OLDEST:
        first = 0;
        break;
      case P.NEWEST:
        first = height - 1;
        break;
      case P.SPECIFIED:
        first = start.getSpecified()!.getNumber();
        if (first > height) return Status.NOT_FOUND;
        break;
      case P.NEXT_COMMIT:
        first = height;
        break;
      default:
        return Status.BAD_REQUEST;
    }
    let last: number;
    switch (stop.getTypeCase()) {
      case P.OLDEST:
        last = first;
        break;
      case P.NEWEST:
        last = start.getTypeCase() === P.NEWEST ? first : height - 1;
        break;
      case P.SPECIFIED:
        last = stop.getSpecified()!.getNumber();
        break;
      default:
        return Status.BAD_REQUEST;
    }
    if (last < first) return Status.BAD_REQUEST;
    const failIfNotReady = seekInfo.getBehavior() === orderer.SeekInfo.SeekBehavior.FAIL_IF_NOT_READY;
    for (let n = first; n <= last; n++) {
      if (n >= ledger.height) {
        if (failIfNotReady) return Status.NOT_FOUND;
        if (!(await unlessCancelled(ledger.waitForBlock(n), c.promise))) return undefined;
      }
      if (!(await write(call, response(kind, n), c.isOpen))) return undefined;
    }
    return Status.SUCCESS;
  }

  const handler = (kind: Kind) => (call: Call) => {
    const c = cancellation(call);
    let queue = Promise.resolve();
    call.on('data', (env: common.Envelope) => {
      queue = queue.then(async () => {
        try {
          const st = await seek(kind, env, c, call);
          if (st !== undefined) await write(call, statusResponse(st), c.isOpen);
          if (st !== undefined && st !== Status.SUCCESS) call.end();
        } catch (e) {
          log.error({ event: 'deliver.internal_error', err: (e as Error).message });
          await write(call, statusResponse(Status.INTERNAL_SERVER_ERROR), c.isOpen);
          call.end();
        }
      });
    });
    call.on('end', () => queue.then(() => c.isOpen() && call.end()));
    call.on('error', () => undefined);
  };

  return {
    deliver: handler('block'),
    deliverFiltered: handler('filtered'),
    deliverWithPrivateData: handler('private'),
  };
}
