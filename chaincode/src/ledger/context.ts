import { Context } from 'fabric-contract-api';
import { canonicalJson } from '../rules/canonical-json';
import { fail } from './errors';

/**
 * Transaction context with the helpers every contract needs. Time comes from the transaction
 * timestamp (the same on every endorser), never from the clock.
 */
export class TraceContext extends Context {
  private eventName?: string;
  /** one context per transaction: its time is read from the proposal once */
  private timeMs?: number;
  private time?: string;

  get txTimeMs(): number {
    if (this.timeMs === undefined) {
      // getTxTimestamp exists on shim 2.3 and 2.5 (getDateTimestamp only on 2.5).
      const ts = this.stub.getTxTimestamp();
      this.timeMs = Number(ts.seconds) * 1000 + Math.floor(ts.nanos / 1e6);
    }
    return this.timeMs;
  }

  get txTime(): string {
    if (this.time === undefined) this.time = new Date(this.txTimeMs).toISOString();
    return this.time;
  }

  get callerMsp(): string {
    return this.clientIdentity.getMSPID();
  }

  /** Sets the transaction's one chaincode event (Fabric keeps only the last one). */
  emit(name: string, payload: object): void {
    if (this.eventName) fail('ERR_STATE', `event ${this.eventName} already set; a transaction emits one event`);
    this.eventName = name;
    this.stub.setEvent(name, Buffer.from(canonicalJson({ ...payload, txId: this.stub.getTxID(), txTime: this.txTime })));
  }
}
