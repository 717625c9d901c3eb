import { Info, Returns, Transaction } from 'fabric-contract-api';
import { requireMember, getMember } from '../ledger/access';
import { actorOf } from '../ledger/actor';
import { TraceContext } from '../ledger/context';
import { deployment } from '../ledger/deployment';
import { parseDto } from '../ledger/dto';
import { fail } from '../ledger/errors';
import { KeyType, key } from '../ledger/keys';
import { PageDto } from '../model/page';
import { getJson, pageJson, putJson } from '../ledger/state';
import { AddMemberDto, BootstrapDto, Consortium, Member, MemberRefDto, Role, SetMemberStatusDto, UpdateMemberDto } from '../model/consortium';
import { canonicalJson } from '../rules/canonical-json';
import { BaseContract } from './base';

const CONSORTIUM_KEY = 'config';

/** 联盟 / 成员: who is in the consortium and which roles each org holds. */
@Info({ title: 'consortium', description: 'Consortium membership and roles' })
export class ConsortiumContract extends BaseContract {
  constructor() {
    super('consortium');
    deployment(); // a malformed deployment setting stops the chaincode at start
  }

  /** Once: the founding org the deployment names founds the consortium and becomes its operator. */
  @Transaction()
  @Returns('string')
  async bootstrap(ctx: TraceContext, json: string): Promise<string> {
    const dto = parseDto(BootstrapDto, json);
    const founder = deployment().founderMsp ?? fail('ERR_STATE', 'this deployment names no founding org (deployment.json founderMsp or TRACE_FOUNDER_MSP)');
    if (ctx.callerMsp !== founder) fail('ERR_FORBIDDEN', `only the founding org ${founder} may bootstrap the consortium`);
    const k = key(ctx, KeyType.consortium, CONSORTIUM_KEY);
    if (await getJson(ctx, k)) fail('ERR_CONFLICT', 'the consortium is already bootstrapped');
    const consortium: Consortium = { name: dto.consortium, operatorMsp: ctx.callerMsp, createdAt: ctx.txTime };
    const roles = [...new Set<Role>(['operator', ...(dto.roles ?? [])])];
    const member: Member = { mspId: ctx.callerMsp, name: dto.name, roles, status: 'active', joinedAt: ctx.txTime, ...actorOf(dto), updatedAt: ctx.txTime };
    await putJson(ctx, k, consortium);
    await putJson(ctx, key(ctx, KeyType.member, member.mspId), member);
    ctx.emit('consortium.Bootstrapped', { consortium, member });
    return canonicalJson(member);
  }

  @Transaction()
  @Returns('string')
  async addMember(ctx: TraceContext, json: string): Promise<string> {
    const dto = parseDto(AddMemberDto, json);
    await requireMember(ctx, ['operator']);
    if (await getMember(ctx, dto.mspId)) fail('ERR_CONFLICT', `org ${dto.mspId} is already a member`);
    const member: Member = { mspId: dto.mspId, name: dto.name, roles: dto.roles, status: 'active', joinedAt: ctx.txTime, ...actorOf(dto), updatedAt: ctx.txTime };
    await putJson(ctx, key(ctx, KeyType.member, member.mspId), member);
    ctx.emit('consortium.MemberAdded', { member });
    return canonicalJson(member);
  }

  @Transaction()
  @Returns('string')
  async updateMember(ctx: TraceContext, json: string): Promise<string> {
    const dto = parseDto(UpdateMemberDto, json);
    await requireMember(ctx, ['operator']);
    const current = (await getMember(ctx, dto.mspId)) ?? fail('ERR_NOT_FOUND', `org ${dto.mspId} is not a member`);
    if (dto.mspId === ctx.callerMsp && dto.roles && !dto.roles.includes('operator')) {
      fail('ERR_STATE', 'the operator cannot remove its own operator role');
    }
    const member: Member = { ...current, name: dto.name ?? current.name, roles: dto.roles ?? current.roles, ...actorOf(dto), updatedAt: ctx.txTime };
    await putJson(ctx, key(ctx, KeyType.member, member.mspId), member);
    ctx.emit('consortium.MemberUpdated', { member });
    return canonicalJson(member);
  }

  @Transaction()
  @Returns('string')
  async setMemberStatus(ctx: TraceContext, json: string): Promise<string> {
    const dto = parseDto(SetMemberStatusDto, json);
    await requireMember(ctx, ['operator']);
    const current = (await getMember(ctx, dto.mspId)) ?? fail('ERR_NOT_FOUND', `org ${dto.mspId} is not a member`);
    if (dto.mspId === ctx.callerMsp) fail('ERR_STATE', 'the operator cannot change its own status');
    if (current.status === dto.status) fail('ERR_STATE', `org ${dto.mspId} is already ${dto.status}`);
    const member: Member = { ...current, status: dto.status, ...actorOf(dto), updatedAt: ctx.txTime };
    await putJson(ctx, key(ctx, KeyType.member, member.mspId), member);
    ctx.emit('consortium.MemberStatusChanged', { member });
    return canonicalJson(member);
  }

  @Transaction(false)
  @Returns('string')
  async getMember(ctx: TraceContext, json: string): Promise<string> {
    const dto = parseDto(MemberRefDto, json);
    return canonicalJson((await getMember(ctx, dto.mspId)) ?? fail('ERR_NOT_FOUND', `org ${dto.mspId} is not a member`));
  }

  @Transaction(false)
  @Returns('string')
  async listMembers(ctx: TraceContext, json: string): Promise<string> {
    return canonicalJson(await pageJson<Member>(ctx, KeyType.member, [], parseDto(PageDto, json)));
  }

  @Transaction(false)
  @Returns('string')
  async getConsortium(ctx: TraceContext): Promise<string> {
    return canonicalJson((await getJson<Consortium>(ctx, key(ctx, KeyType.consortium, CONSORTIUM_KEY))) ?? fail('ERR_NOT_FOUND', 'the consortium is not bootstrapped'));
  }
}
