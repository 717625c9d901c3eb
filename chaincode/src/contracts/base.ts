import { Contract } from 'fabric-contract-api';
import { TraceContext } from '../ledger/context';
import { fail } from '../ledger/errors';

/** Shared by every contract: the typed context, and unknown transactions as ERR_NOT_FOUND. */
export abstract class BaseContract extends Contract {
  override createContext(): TraceContext {
    return new TraceContext();
  }

  override async unknownTransaction(ctx: TraceContext): Promise<void> {
    fail('ERR_NOT_FOUND', `unknown transaction ${ctx.stub.getFunctionAndParameters().fcn}`);
  }
}
