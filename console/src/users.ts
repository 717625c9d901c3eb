import { parseArgs } from 'node:util';
import { openConsoleDb } from './db';
import { ConsoleError } from './errors';
import { createUser, listUsers, setDisabled } from './user-store';

const USAGE = `usage: node console/dist/src/users.js create  --db console.sqlite --user <name> --roles admin[,data_entry,…]   (password from CONSOLE_PASSWORD or stdin)
       node console/dist/src/users.js list    --db console.sqlite
       node console/dist/src/users.js disable --db console.sqlite --user <name>
       node console/dist/src/users.js enable  --db console.sqlite --user <name>`;

async function readPassword(): Promise<string> {
  if (process.env.CONSOLE_PASSWORD) return process.env.CONSOLE_PASSWORD;
  const chunks: Buffer[] = [];
  for await (const c of process.stdin as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

/** The console's users from the command line: the first admin, and a way back in if every admin is locked out. */
async function main(): Promise<void> {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { db: { type: 'string' }, user: { type: 'string' }, roles: { type: 'string' } } });
  const [command] = positionals;
  if (!values.db || !['create', 'list', 'disable', 'enable'].includes(command)) {
    console.error(USAGE);
    process.exit(2);
  }
  const db = openConsoleDb(values.db);
  try {
    if (command === 'list') {
      for (const u of listUsers(db)) console.log(`${u.username}\t${u.roles.join(',')}\t${u.disabled ? 'DISABLED' : 'active'}\t${u.createdAt}`);
    } else if (command === 'create') {
      const u = await createUser(db, { username: values.user, password: await readPassword(), roles: (values.roles ?? '').split(',').filter(Boolean) }, 'cli');
      console.log(`created ${u.username} (${u.roles.join(', ')})`);
    } else {
      const disabled = command === 'disable';
      console.log(`${disabled ? 'disabled' : 'enabled'} ${setDisabled(db, values.user ?? '', disabled).username}`);
    }
  } finally {
    db.close();
  }
}

main().catch((e: Error) => {
  console.error(`users: ${e instanceof ConsoleError ? `[${e.code}] ` : ''}${e.message}`);
  process.exit(e instanceof ConsoleError ? 2 : 1);
});
