import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const E2E = resolve(__dirname, '../src/e2e.js');
const e2e = (...args: string[]) => spawnSync(process.execPath, [E2E, ...args], { encoding: 'utf8', timeout: 280_000 });

describe('npm run e2e', function () {
  this.timeout(300_000);

  it('--devnet --tls: over TLS through the standard profiles, seeds the demo with the roles mapped to three orgs of other MSP ids (one plays two roles), indexes it and passes every check', () => {
    const r = e2e('--devnet', '--tls', '--roles', 'brand=BrandMSP,farm=FarmMSP,factory=BrandMSP,retail=ShopMSP');
    expect(r.status, r.stderr.slice(-3000)).to.equal(0);
    const rows = r.stdout.split('\n').filter((l) => /^(PASS|FAIL) /.test(l));
    expect(rows.length).to.be.greaterThan(10);
    expect(rows.filter((l) => l.startsWith('FAIL'))).to.deep.equal([]);
    expect(r.stdout).to.include('["BrandMSP","FarmMSP","ShopMSP"]');
    expect(r.stdout).to.match(/all \d+ checks passed/);
  });

  it('refuses an unknown role, a role no profile names and a stray option with exit code 2, before any transaction', () => {
    const profile = join(mkdtempSync(join(tmpdir(), 'e2e-args-')), 'connection-org1.json');
    // a standard profile naming one org whose peer nobody listens on: refused before any connection is made
    writeFileSync(profile, JSON.stringify({ name: 'one-org', client: { organization: 'Org1' }, organizations: { Org1: { mspid: 'Org1MSP', peers: ['peer0.org1.example.com'] } }, peers: { 'peer0.org1.example.com': { url: 'grpcs://127.0.0.1:1' } } }));
    const unknown = e2e('--devnet', '--roles', 'king=Org1MSP');
    expect([unknown.status, unknown.stderr]).to.satisfy(([s, err]: [number, string]) => s === 2 && err.includes('[ERR_ROLE] unknown role'));
    const unnamed = e2e('--connection', profile);
    expect(unnamed.status).to.equal(2);
    expect(unnamed.stderr).to.include('[ERR_ROLE] no --connection profile names Org2MSP');
    expect(unnamed.stdout).to.equal('');
    const stray = e2e('--devnet', '--tsl');
    expect(stray.status).to.equal(2);
  });
});
