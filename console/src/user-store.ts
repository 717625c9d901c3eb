import { Db } from './db';
import { ConsoleError } from './errors';
import { hashPassword, passwordProblem } from './passwords';
import { isRole, Role } from './roles';

export interface User {
  id: number;
  username: string;
  roles: Role[];
  disabled: boolean;
  createdAt: string;
}

interface UserRow {
  id: number;
  username: string;
  password_hash: string;
  roles: string;
  disabled: number;
  created_at: string;
}

const USERNAME = /^[a-z0-9][a-z0-9._-]{1,31}$/;

const toUser = (r: UserRow): User => ({ id: r.id, username: r.username, roles: JSON.parse(r.roles) as Role[], disabled: r.disabled === 1, createdAt: r.created_at });

export function checkRoles(roles: unknown): Role[] {
  if (!Array.isArray(roles) || roles.length === 0 || !roles.every(isRole)) throw new ConsoleError(400, 'ERR_VALIDATION', 'roles must be a non-empty list of admin, data_entry, qa, code_manager, asset_manager', { roles: 'invalid roles' });
  return [...new Set(roles)];
}

export async function createUser(db: Db, input: { username: unknown; password: unknown; roles: unknown }, createdBy?: string): Promise<User> {
  if (typeof input.username !== 'string' || !USERNAME.test(input.username)) {
    throw new ConsoleError(400, 'ERR_VALIDATION', 'username must be 2–32 lowercase letters, digits, dots, dashes or underscores', { username: 'invalid username' });
  }
  const problem = passwordProblem(input.password);
  if (problem) throw new ConsoleError(400, 'ERR_VALIDATION', problem, { password: problem });
  const roles = checkRoles(input.roles);
  if (findUser(db, input.username)) throw new ConsoleError(409, 'ERR_EXISTS', `user ${input.username} exists`, { username: 'taken' });
  const hash = await hashPassword(input.password as string);
  const row = db
    .prepare('INSERT INTO users (username, password_hash, roles, created_at, created_by) VALUES (?, ?, ?, ?, ?) RETURNING *')
    .get(input.username, hash, JSON.stringify(roles), new Date().toISOString(), createdBy ?? null) as UserRow;
  return toUser(row);
}

/** The user and their password hash, for logging in. */
export function findUser(db: Db, username: string): (User & { passwordHash: string }) | undefined {
  const row = db.prepare('SELECT * FROM users WHERE username = ?').get(username) as UserRow | undefined;
  return row && { ...toUser(row), passwordHash: row.password_hash };
}

export function userById(db: Db, id: number): User | undefined {
  const row = db.prepare('SELECT * FROM users WHERE id = ?').get(id) as UserRow | undefined;
  return row && toUser(row);
}

export function listUsers(db: Db): User[] {
  return (db.prepare('SELECT * FROM users ORDER BY username').all() as UserRow[]).map(toUser);
}

/** Disabling also ends the user's sessions, so it takes effect at once. */
export function setDisabled(db: Db, username: string, disabled: boolean): User {
  const user = findUser(db, username) ?? notFound(username);
  db.transaction(() => {
    db.prepare('UPDATE users SET disabled = ? WHERE id = ?').run(disabled ? 1 : 0, user.id);
    if (disabled) db.prepare('DELETE FROM sessions WHERE user_id = ?').run(user.id);
  })();
  return userById(db, user.id) as User;
}

function notFound(username: string): never {
  throw new ConsoleError(404, 'ERR_NOT_FOUND', `no user ${username}`);
}
