/** What a console user may do; an admin manages users, the others each own one kind of daily work. */
export const ROLES = ['admin', 'data_entry', 'qa', 'code_manager', 'asset_manager'] as const;
export type Role = (typeof ROLES)[number];

export function isRole(r: unknown): r is Role {
  return typeof r === 'string' && (ROLES as readonly string[]).includes(r);
}
