import { ServerDuplexStream, UntypedServiceImplementation } from '@grpc/grpc-js';
import { common, orderer } from '@hyperledger/fabric-protos';
import type { Logger } from 'pino';
import { MspRegistry } from '../crypto/msp';
import { Ledger } from '../ledger/ledger';
import { admitEnvelope } from '../orderer/admission';
import { Orderer } from '../orderer/orderer';
import { cancellation, write } from './streams';

type Call = ServerDuplexStream<common.Envelope, orderer.BroadcastResponse>;

function response(s: keyof common.StatusMap, info = ''): orderer.BroadcastResponse {
  const res = new orderer.BroadcastResponse();
  res.setStatus(common.Status[s]);
  res.setInfo(info);
  return res;
}

/**
 * orderer.AtomicBroadcast/Broadcast: one BroadcastResponse per envelope, in order, with the same
 * admission checks as the Gateway's Submit (validation proper happens at commit, as in Fabric).
 * `deliver` serves the orderer's block stream from the peer Deliver implementation.
 */
export function atomicBroadcastService(d: { ledger: Ledger; msps: MspRegistry; orderer: Orderer; deliver: UntypedServiceImplementation['deliver']; log: Logger }): UntypedServiceImplementation {
  const broadcast = (call: Call) => {
    const c = cancellation(call);
    let queue = Promise.resolve();
    call.on('data', (env: common.Envelope) => {
      queue = queue.then(async () => {
        let res: orderer.BroadcastResponse;
        const refused = admitEnvelope(env, d.ledger.channelId, d.msps);
        if (refused) res = response(refused.status, refused.info);
        else {
          try {
            d.orderer.broadcast({ bytes: env.serializeBinary(), creatorVerified: true });
            res = response('SUCCESS');
          } catch (e) {
            d.log.warn({ event: 'broadcast.refused', err: (e as Error).message });
            res = response('SERVICE_UNAVAILABLE', (e as Error).message);
          }
        }
        await write(call, res, c.isOpen);
      });
    });
    call.on('end', () => queue.then(() => c.isOpen() && call.end()));
    call.on('error', () => undefined);
  };
  return { broadcast, deliver: d.deliver };
}
