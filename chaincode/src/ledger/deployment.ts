import { existsSync, readFileSync } from 'fs';
import { dirname, join } from 'path';

/**
 * Settings fixed when the chaincode is deployed, so no member can race for them on the channel:
 * `deployment.json` beside the package's package.json (every org approves the package, so all of
 * them agree on it), else the chaincode process's environment (a chaincode server, the devnet).
 */
export interface Deployment {
  /** the MSP ID allowed to call consortium:bootstrap and so become the operator */
  founderMsp?: string;
}

/** The package root: the nearest directory above this file that holds package.json. */
function packageRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}
const MSP_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** The deployment from the package file's contents (if any) and the environment; throws on a malformed setting. */
export function deploymentFrom(fileJson: string | undefined, env: Record<string, string | undefined>): Deployment {
  const fromFile = fileJson === undefined ? {} : (JSON.parse(fileJson) as Deployment);
  const founderMsp = fromFile.founderMsp ?? (env.TRACE_FOUNDER_MSP || undefined);
  // A malformed setting must stop the chaincode loudly, not leave bootstrap open.
  if (founderMsp !== undefined && (typeof founderMsp !== 'string' || !MSP_ID.test(founderMsp))) {
    throw new Error(`deployment: founderMsp ${JSON.stringify(founderMsp)} is not an MSP ID`);
  }
  return { founderMsp };
}

let cached: Deployment | undefined;

export function deployment(): Deployment {
  if (!cached) {
    const file = join(packageRoot(), 'deployment.json');
    cached = deploymentFrom(existsSync(file) ? readFileSync(file, 'utf8') : undefined, process.env);
  }
  return cached;
}
