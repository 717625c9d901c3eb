import { CodeStatus } from './codes';

/**
 * Who may act on another org's goods: pure ownership rules (DESIGN §4). Roles say what kind of
 * work an org does; these rules say whose goods it may do it on. A task belongs to the brand that
 * owns its product; the orgs a task assigns to its stages act on that task's codes only within
 * the stages they were assigned.
 */

/** Stages that handle packed goods: their orgs may pack and unpack the task's codes. */
export const HANDLING_BIZSTEPS: readonly string[] = ['packing', 'storing', 'shipping', 'receiving', 'loading', 'unloading'];

export interface OwnedProduct {
  ownerMsp: string;
  /** orgs the owner let open production tasks for the product (e.g. a contract manufacturer) */
  delegates?: string[];
}

export interface OwnedTask {
  owner: string;
  assignments: Record<string, string>;
}

export interface StageRoleView {
  stage: string;
  role: string;
  bizStep: string;
}

/** The product's owner, or an org it delegated to on chain, opens tasks for it. */
export function mayCreateTask(product: OwnedProduct, caller: string): boolean {
  return product.ownerMsp === caller || (product.delegates ?? []).includes(caller);
}

function assignedTo(task: OwnedTask, stages: readonly StageRoleView[], caller: string, pick: (s: StageRoleView) => boolean): boolean {
  return stages.some((s) => pick(s) && task.assignments[s.stage] === caller);
}

/** The task's owner, or the org assigned to the task's packing stage, issues its codes. */
export function mayIssueCodes(task: OwnedTask, stages: readonly StageRoleView[], caller: string): boolean {
  return task.owner === caller || assignedTo(task, stages, caller, (s) => s.bizStep === 'packing');
}

/**
 * Status changes of a task's codes: the owner does any; the packing org activates what it
 * issued for the owner; the org assigned to the task's retail stage (role retailer) sells.
 */
export function mayChangeCodeStatus(task: OwnedTask, stages: readonly StageRoleView[], caller: string, to: CodeStatus): boolean {
  if (task.owner === caller) return true;
  if (to === 'active') return assignedTo(task, stages, caller, (s) => s.bizStep === 'packing');
  if (to === 'sold') return assignedTo(task, stages, caller, (s) => s.role === 'retailer');
  return false;
}

/** Packing and unpacking a task's codes: its owner, or an org assigned to one of its handling stages. */
export function mayPack(task: OwnedTask, stages: readonly StageRoleView[], caller: string): boolean {
  return task.owner === caller || assignedTo(task, stages, caller, (s) => HANDLING_BIZSTEPS.includes(s.bizStep));
}
