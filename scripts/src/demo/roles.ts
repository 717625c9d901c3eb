import { DEMO_ORGS, DemoOrg } from './seed';

/** Which MSP plays each of the demo's four roles on the network at hand. */
export type DemoRoles = Record<DemoOrg, string>;

/** A failure of the caller's input, with a stable code the CLIs print and tests assert. */
export class UsageError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(`[${code}] ${message}`);
  }
}

const MSP_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * Parses `brand=Org1MSP,farm=Org2MSP,…`: roles not named keep the devnet's MSP. Two roles may share
 * an org (a network with fewer orgs than roles); an unknown role or a malformed MSP id is refused.
 */
export function parseRoles(text: string | undefined): DemoRoles {
  const roles: DemoRoles = { ...DEMO_ORGS };
  for (const pair of (text ?? '').split(',').filter((p) => p.trim())) {
    const [role, msp, ...rest] = pair.split('=').map((s) => s.trim());
    if (!Object.hasOwn(DEMO_ORGS, role)) throw new UsageError('ERR_ROLE', `unknown role '${role}' in --roles; the demo's roles are ${Object.keys(DEMO_ORGS).join(', ')}`);
    if (rest.length || !msp || !MSP_ID.test(msp)) throw new UsageError('ERR_ROLE', `--roles wants role=MSPID pairs, got '${pair}'`);
    roles[role as DemoOrg] = msp;
  }
  return roles;
}
