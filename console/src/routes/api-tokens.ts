import { PAGES } from '../access';
import { createApiToken, listApiTokens, revokeApiToken } from '../api-tokens';
import { ConsoleError } from '../errors';
import { audit, ConsoleRoute, user } from '../route-kit';

/** An admin gives a user's system an API token for the machine routes (shown once) and revokes it. */
export const apiTokenRoutes: ConsoleRoute[] = [
  { method: 'get', path: '/api/api-tokens', access: PAGES.users, summary: "The org's API tokens (never their values): user, label, created, last used, revoked", handle: (c) => listApiTokens(c.deps.db) },
  {
    method: 'post', path: '/api/users/:username/api-tokens', access: PAGES.users, summary: 'Create an API token {label} for the user: its value is answered once',
    handle: (c) => {
      const created = createApiToken(c.deps.db, c.params.username, c.body.label, user(c).username);
      audit(c, 'api-tokens:create', `${created.username}#${created.id}`, 'ok');
      return created;
    },
  },
  {
    method: 'post', path: '/api/api-tokens/:id/revoke', access: PAGES.users, summary: 'Revoke an API token',
    handle: (c) => {
      const id = Number(c.params.id);
      if (!Number.isSafeInteger(id) || id < 1) throw new ConsoleError(400, 'ERR_VALIDATION', 'id must be a token id');
      const revoked = revokeApiToken(c.deps.db, id);
      audit(c, 'api-tokens:revoke', `${revoked.username}#${revoked.id}`, 'ok');
      return revoked;
    },
  },
];
