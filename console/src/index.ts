export { startConsole, ConsoleOptions, RunningConsole } from './server';
export { openConsoleDb } from './db';
export { createUser } from './user-store';
export { createApiToken, listApiTokens, revokeApiToken } from './api-tokens';
export { ROLES, Role } from './roles';
export { startDemoConsoles, DemoConsole, DEMO_PASSWORD, DEMO_USERS } from './demo';
