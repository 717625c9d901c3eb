import { createHash } from 'node:crypto';

/** code hash number i of bench:indexer: deterministic, so its phases can pick random issued codes without keeping them */
export const codeHashOf = (i: number): string => createHash('sha256').update(`bench-code-${i}`).digest('hex');
