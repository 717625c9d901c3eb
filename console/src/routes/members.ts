import type { AddMemberDto, Member, MemberStatus, Role as ChainRole, SetMemberStatusDto, UpdateMemberDto } from '@trace/chaincode';
import { Input, LedgerError } from '@trace/client';
import { PAGES } from '../access';
import { ConsoleError } from '../errors';
import { fieldsOfRefusal } from '../refusal-fields';
import { Call, chainWrite, ConsoleRoute, id, indexerPage, str, user } from '../route-kit';

const memberFields = fieldsOfRefusal(['mspId', 'name', 'roles'], 'mspId');
/** updateMember's own-role refusal (ERR_STATE) concerns the roles too */
const roleFields = (code: string, message: string) => (code === 'ERR_STATE' ? { roles: message } : memberFields(code, message));

function roles(call: Call): ChainRole[] {
  const v = call.body.roles;
  if (!Array.isArray(v) || !v.every((r) => typeof r === 'string')) throw new ConsoleError(400, 'ERR_VALIDATION', 'roles must be a list of chain roles', { roles: 'a list of roles' });
  return v as ChainRole[];
}

function status(call: Call): MemberStatus {
  const s = call.body.status;
  if (s !== 'active' && s !== 'suspended') throw new ConsoleError(400, 'ERR_VALIDATION', 'status must be active or suspended', { status: 'active or suspended' });
  return s;
}

/** The chain call bodies of this page, each built here only; the chain decides whether this org may make them. */
const bodies = {
  addMember: (c: Call): Input<AddMemberDto> => ({ mspId: str(c.body, 'mspId') as string, name: str(c.body, 'name') as string, roles: roles(c), actor: user(c).username }),
  updateMember: (c: Call): Input<UpdateMemberDto> => ({ mspId: id(c.params.mspId, 'mspId'), name: str(c.body, 'name', true), roles: roles(c), actor: user(c).username }),
  setMemberStatus: (c: Call): Input<SetMemberStatusDto> => ({ mspId: id(c.params.mspId, 'mspId'), status: status(c), actor: user(c).username }),
};

interface IndexedMember {
  msp_id: string;
  name: string;
  roles: ChainRole[];
  status: MemberStatus;
  joined_at: string;
  updated_at: string;
}
const memberRow = (m: IndexedMember): Member => ({ mspId: m.msp_id, name: m.name, roles: m.roles, status: m.status, joinedAt: m.joined_at, updatedAt: m.updated_at });

/** Whether the chain holds this org as an active member with the operator role: what consortium writes require of the caller. */
async function isOperator(call: Call): Promise<boolean> {
  const { client, org } = call.deps.chain;
  try {
    const me: Member = await client.consortium.getMember(org);
    return me.status === 'active' && me.roles.includes('operator');
  } catch (e) {
    if (e instanceof LedgerError && e.code === 'ERR_NOT_FOUND') return false;
    throw e;
  }
}

/**
 * 成员与角色: every admin sees the consortium's members (membership is visible to all members on chain anyway);
 * the chain lets only the operator change them, and the console passes any admin's attempt on for the chain to answer.
 */
export const MEMBER_ROUTES: ConsoleRoute[] = [
  {
    method: 'get', path: '/api/members', access: PAGES.members, summary: 'A page of consortium members (offset), the chain roles, and whether the chain holds this org as the operator',
    handle: async (c) => {
      const [{ rows, ...page }, operator] = await Promise.all([indexerPage<IndexedMember>(c, '/api/members'), isOperator(c)]);
      return { members: rows.map(memberRow), ...page, org: c.deps.chain.org, operator };
    },
  },
  {
    method: 'post', path: '/api/members', access: PAGES.members, summary: 'Add a member {mspId, name, roles} (the operator only, as the chain decides)',
    handle: (c) => {
      const dto = bodies.addMember(c);
      return chainWrite(c, 'consortium:addMember', dto.mspId, () => c.deps.chain.client.consortium.addMember(dto), memberFields);
    },
  },
  {
    method: 'post', path: '/api/members/:mspId/roles', access: PAGES.members, summary: "Replace a member's roles {roles, name?} (the operator only)",
    handle: (c) => {
      const dto = bodies.updateMember(c);
      return chainWrite(c, 'consortium:updateMember', dto.mspId, () => c.deps.chain.client.consortium.updateMember(dto), roleFields);
    },
  },
  {
    method: 'post', path: '/api/members/:mspId/status', access: PAGES.members, summary: 'Suspend or reactivate a member {status: active | suspended} (the operator only)',
    handle: (c) => {
      const dto = bodies.setMemberStatus(c);
      return chainWrite(c, dto.status === 'suspended' ? 'consortium:suspendMember' : 'consortium:reactivateMember', dto.mspId, () => c.deps.chain.client.consortium.setMemberStatus(dto));
    },
  },
];
