import { expect } from 'chai';
import { appendFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appendDeployment, readDeployments } from '@trace/client';
import { tbaasSource } from '../src/network/tbaas-source';

describe('console units: 区块链管理 sources', () => {
  it('on TBaaS shows the client settings and the members, never the API key, and says what the cloud API does not tell', async () => {
    const config = { secretId: 'AKIDexample', secretKey: 'secret-key-never-shown', region: 'ap-guangzhou', clusterId: 'fabric-65z42qi150', channelId: 'channel-9xej4d', chaincodeName: 'trace' };
    const source = tbaasSource(config, 'Org1MSP', async () => new Map([['Org1MSP', 'Brand']]));
    const view = await source.view();
    expect(view).to.deep.include({ source: 'tbaas', channel: 'channel-9xej4d', org: 'Org1MSP', height: null, orgs: [{ mspId: 'Org1MSP', name: 'Brand', rootCas: [], peers: [] }] });
    expect(view.cloud).to.deep.equal({ region: 'ap-guangzhou', clusterId: 'fabric-65z42qi150', endpoint: 'tbaas.tencentcloudapi.com' });
    expect(view.silent).to.include.members(['height', 'blocks', 'chaincodeDefinition', 'channelConfig']);
    expect(JSON.stringify(view)).not.to.include('secret-key-never-shown').and.not.include('AKIDexample');
    expect(source.blocks).to.equal(undefined);
  });

  it('reads the deploy record newest first, counting a torn line instead of failing', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'deployments-')), 'deployments.jsonl');
    expect(readDeployments(file)).to.deep.equal({ records: [], unreadable: 0 });
    appendDeployment(file, { at: '2026-12-01T01:00:00.000Z', target: 'devnet', chaincode: 'trace' });
    appendDeployment(file, { at: '2026-12-01T02:00:00.000Z', target: 'fabric', chaincode: 'trace', sequence: 2, packageHash: 'ab'.repeat(32) });
    appendFileSync(file, '{"at": "2026-12-01T03:00:00.000Z", "target": "fab');
    const { records, unreadable } = readDeployments(file);
    expect(records.map((r) => [r.target, r.sequence])).to.deep.equal([['fabric', 2], ['devnet', undefined]]);
    expect(unreadable).to.equal(1);
  });
});
