import { KeyType, key } from './keys';
import { getJson } from './state';
import { TraceContext } from './context';
import { fail } from './errors';
import { Member, Role } from '../model/consortium';

export async function getMember(ctx: TraceContext, mspId: string): Promise<Member | undefined> {
  return getJson<Member>(ctx, key(ctx, KeyType.member, mspId));
}

/**
 * The caller's org as an active consortium member holding one of `roles` (any role when none
 * given). Member authority always comes from the submitting identity's org.
 */
export async function requireMember(ctx: TraceContext, roles: readonly Role[] = []): Promise<Member> {
  const member = await getMember(ctx, ctx.callerMsp);
  if (!member) return fail('ERR_NOT_MEMBER', `org ${ctx.callerMsp} is not a consortium member`);
  if (member.status !== 'active') return fail('ERR_NOT_MEMBER', `org ${ctx.callerMsp} is ${member.status}`);
  if (roles.length > 0 && !roles.some((r) => member.roles.includes(r))) {
    return fail('ERR_FORBIDDEN', `org ${ctx.callerMsp} needs one of the roles ${roles.join(', ')}`);
  }
  return member;
}
