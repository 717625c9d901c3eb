import { Role } from './roles';

/** Who may open what: 'user' is any signed-in user. The API's route table and the page list both read this. */
export type Access = 'public' | 'user' | readonly Role[];

/** The pages of the front end and who may open them (its router hides the others). */
export const PAGES = {
  workbench: 'user',
  stageEntry: ['data_entry'],
  users: ['admin'],
  tasks: 'user',
  taskCreate: ['admin', 'data_entry'],
  audit: ['qa'],
  codes: ['code_manager'],
  devices: ['admin', 'data_entry'],
  // 产品与地点 and 成员与角色: an org's admin; the chain decides which member changes it accepts
  catalog: ['admin'],
  members: ['admin'],
  network: ['admin'],
  assets: ['asset_manager'],
  designer: ['admin'],
} as const satisfies Record<string, Access>;
export type Page = keyof typeof PAGES;

export function allows(access: Access, roles: readonly Role[] | undefined): boolean {
  if (access === 'public') return true;
  if (!roles) return false;
  return access === 'user' || access.some((r) => roles.includes(r));
}

export function pagesFor(roles: readonly Role[]): Page[] {
  return (Object.keys(PAGES) as Page[]).filter((p) => allows(PAGES[p], roles));
}
