import { parseArgs } from 'node:util';
import { createApiToken, listApiTokens, revokeApiToken } from './api-tokens';
import { openConsoleDb } from './db';
import { ConsoleError } from './errors';

const USAGE = `usage: node console/dist/src/tokens.js create --db console.sqlite --user <name> --label <label>   (prints the token once)
       node console/dist/src/tokens.js list   --db console.sqlite
       node console/dist/src/tokens.js revoke --db console.sqlite <id>`;

/** API tokens of console users for their systems (EPCIS capture), next to the database, as the admin API does. */
function main(): void {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { db: { type: 'string' }, user: { type: 'string' }, label: { type: 'string' } } });
  const [command, id] = positionals;
  if (!values.db || !['create', 'list', 'revoke'].includes(command)) {
    console.error(USAGE);
    process.exit(2);
  }
  const db = openConsoleDb(values.db);
  try {
    if (command === 'list') {
      for (const t of listApiTokens(db)) console.log(`${t.id}\t${t.username}\t${t.label}\t${t.createdAt}\t${t.lastUsedAt ?? 'never used'}\t${t.revokedAt ? 'REVOKED' : 'active'}`);
    } else if (command === 'create') {
      const t = createApiToken(db, values.user ?? '', values.label, 'cli');
      console.log(t.token);
      console.error(`token ${t.id} for ${t.username} (${t.label}): shown once, store it in the system that calls the console`);
    } else {
      console.log(`revoked token ${revokeApiToken(db, Number(id)).id}`);
    }
  } finally {
    db.close();
  }
}

try {
  main();
} catch (e) {
  console.error(`tokens: ${e instanceof ConsoleError ? `[${e.code}] ` : ''}${(e as Error).message}`);
  process.exit(e instanceof ConsoleError ? 2 : 1);
}
