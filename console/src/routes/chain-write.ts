import { chainError } from '../chain';
import { audit, Call, user } from '../routes';

/**
 * One write to the chain as the org on behalf of the signed-in user: audited and logged either way, a refusal answered
 * with the chain's stable code (and, through `fields`, on the form fields it concerns).
 */
export async function chainWrite<T extends object>(call: Call, action: string, subject: string, write: () => Promise<T>, fields?: (code: string, message: string) => Record<string, string>): Promise<T> {
  const { chain, log } = call.deps;
  const entry = { evt: 'console.write', user: user(call).username, org: chain.org, action, subject };
  try {
    const result = await write();
    const txId = 'txId' in result && typeof result.txId === 'string' ? result.txId : undefined;
    audit(call, action, subject, 'ok', txId);
    log.info({ ...entry, outcome: 'ok', txId });
    return result;
  } catch (e) {
    const err = chainError(e, fields);
    audit(call, action, subject, err.code);
    log.info({ ...entry, outcome: err.code });
    throw err;
  }
}
