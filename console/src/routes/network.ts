import { readDeployments } from '@trace/client';
import { PAGES } from '../access';
import { ConsoleError } from '../errors';
import { Call, ConsoleRoute } from '../route-kit';

const PAGE_SIZE = 10;

function pageNumber(call: Call): number {
  const raw = call.ctx.query.page ?? '0';
  const page = Number(raw);
  if (typeof raw !== 'string' || !/^\d{1,9}$/.test(raw)) throw new ConsoleError(400, 'ERR_VALIDATION', 'page is a number from 0', { page: 'a number from 0' });
  return page;
}

/** The network view and the org's deployments (the deploy command's record, when the console is given its path). */
async function network(call: Call): Promise<unknown> {
  const { networkSource, deploymentsFile } = call.deps;
  const view = await networkSource.view();
  const deployments = deploymentsFile ? { file: deploymentsFile, ...readDeployments(deploymentsFile) } : { file: null, records: [], unreadable: 0 };
  return { view, deployments };
}

async function blocks(call: Call): Promise<unknown> {
  const { networkSource } = call.deps;
  if (!networkSource.blocks) throw new ConsoleError(501, 'ERR_UNSUPPORTED', 'this network does not let the console read blocks by number (TBaaS cloud API)');
  return networkSource.blocks(pageNumber(call), PAGE_SIZE);
}

/** 区块链管理: read-only, for admins. */
export const NETWORK_ROUTES: ConsoleRoute[] = [
  { method: 'get', path: '/api/network', access: PAGES.network, summary: 'The channel, member orgs, peers and orderers, the chaincode definition, the height, and the deployments this org made', handle: network },
  { method: 'get', path: '/api/network/blocks', access: PAGES.network, summary: 'Recent blocks, newest first, 10 a page (page)', handle: blocks },
];
