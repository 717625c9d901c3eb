import { expect } from 'chai';
import { checkEpcisMapping, checkItemDefinition, checkRuleReferences, checkRuleShape, checkStageGraph, DataItem, Rule } from '@trace/chaincode';
import { Ledger, ledgerFromConfig, TraceChainClient } from '@trace/client';
import { RunningDevnet, startDevnet } from '@trace/test-network';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { liquor, loadTemplatePackage, tea, TemplatePackage } from '../src';

function itemsByStage(pkg: TemplatePackage): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const node of pkg.template.stages) {
    const stage = pkg.stages.find((s) => s.id === node.stage)!;
    out[node.stage] = stage.forms.flatMap((f) => pkg.forms.find((x) => x.id === f)!.items);
  }
  return out;
}

describe('industry templates', () => {
  for (const [name, pkg] of Object.entries({ tea, liquor })) {
    it(`${name}: every stage, form, item, rule and public view entry resolves`, () => {
      expect(checkStageGraph(pkg.template.stages)).to.deep.equal([]);
      expect(pkg.template.rules.flatMap((r) => checkRuleShape(r))).to.deep.equal([]);
      expect(checkRuleReferences(pkg.template.rules as Rule[], itemsByStage(pkg))).to.deep.equal([]);
      expect(pkg.items.flatMap((i) => checkItemDefinition(i as DataItem))).to.deep.equal([]);
      const byStage = itemsByStage(pkg);
      for (const [stage, items] of Object.entries(pkg.template.publicView)) for (const item of items) expect(byStage[stage], `${stage}.${item}`).to.include(item);
      const [qStage, qItem] = (pkg.template.assetQuantity ?? '').split('.');
      expect(byStage[qStage], `assetQuantity ${pkg.template.assetQuantity}`).to.include(qItem);
      expect(pkg.items.find((i) => i.id === qItem)?.type, 'a lot is counted in whole units').to.equal('integer');
      const kinds = new Set(pkg.template.rules.map((r) => r.kind));
      expect(kinds.size, 'a realistic mix of rule kinds').to.be.at.least(4);
      expect(pkg.template.rules.some((r) => r.kind === 'eq' && r.left.startsWith('receiving.')), 'handover confirmed by the receiver').to.equal(true);
      // diversion checks find the destination through this marker, not by a stage or item name
      const shipping = pkg.template.stages.filter((n) => pkg.stages.find((s) => s.id === n.stage)!.bizStep === 'shipping');
      expect(shipping, 'a shipping stage').to.have.length.at.least(1);
      for (const n of shipping) expect(byStage[n.stage].filter((id) => pkg.items.find((i) => i.id === id)!.destinationRegion), `${n.stage}: one destination region item`).to.have.length(1);
      // the EPCIS mapping names quantities of each stage and inputs of earlier ones, with CBV terms
      const resolved = pkg.template.stages.map((n) => ({ stage: n.stage, after: n.after, items: byStage[n.stage].map((id) => pkg.items.find((i) => i.id === id) as DataItem) }));
      expect(checkEpcisMapping(pkg.template.epcis, resolved)).to.deep.equal([]);
      expect(Object.values(pkg.template.epcis ?? {}).filter((m) => m.inputs), 'at least one transformation').to.have.length.at.least(1);
    });
  }

  describe('loader against the devnet (mutual TLS, standard connection profile)', function () {
    this.timeout(120_000);
    let devnet: RunningDevnet;
    let ledger: Ledger;
    let client: TraceChainClient;

    before(async () => {
      devnet = await startDevnet(['--chaincode-path', resolve(__dirname, '../../../chaincode'), '--chaincode-name', 'trace', '--endorsers', '1', '--mtls']);
      ledger = ledgerFromConfig(devnet.connection, { user: 'Admin' });
      client = new TraceChainClient(ledger);
      await client.consortium.bootstrap({ consortium: 'templates', name: 'Brand', roles: ['brand'] });
    });

    after(async () => {
      ledger?.close();
      await devnet?.stop();
    });

    it('defines everything once, reports progress, and is idempotent', async () => {
      const seen: string[] = [];
      const first = await loadTemplatePackage(client, tea, (done, total, what) => seen.push(`${done}/${total} ${what}`));
      expect(first.published).to.equal('defined');
      expect(Object.values(first.items).every((o) => o === 'defined')).to.equal(true);
      expect(seen).to.have.length(tea.items.length + tea.forms.length + tea.stages.length + 1);
      expect(seen[seen.length - 1]).to.equal(`${seen.length}/${seen.length} template puer_tea v1`);
      const again = await loadTemplatePackage(client, tea);
      expect(again.published).to.equal('existing');
      expect(Object.values(again.stages).every((o) => o === 'existing')).to.equal(true);
      const liq = await loadTemplatePackage(client, liquor);
      expect(liq.items.shipped_units).to.equal('existing');
      expect(liq.items.liq_sorghum_kg).to.equal('defined');
      expect((await client.process.getTemplate('baijiu', 1)).stages.map((s) => s.stage)).to.include('liq_aging');
    });

    it('the loader CLI loads through the org\'s profile, and says which peer refused a wrong server name', () => {
      const cli = (connection: string) => spawnSync(process.execPath, [resolve(__dirname, '../src/cli.js'), 'load', 'liquor', '--connection', connection], { encoding: 'utf8' });
      const ok = cli(devnet.connection);
      expect(ok.status, ok.stderr).to.equal(0);
      expect(ok.stdout).to.contain('baijiu v1: 0/');
      expect(ok.stdout).to.contain('template was already published');
      const profile = JSON.parse(readFileSync(devnet.connection, 'utf8')) as { peers: Record<string, { grpcOptions: Record<string, string> }> };
      profile.peers['peer0.org1.example.com'].grpcOptions = { 'ssl-target-name-override': 'peer0.org9.example.com' };
      const wrong = resolve(devnet.dataDir, 'wrong-name.json');
      writeFileSync(wrong, JSON.stringify(profile));
      const refused = cli(wrong);
      expect(refused.status).to.equal(1);
      expect(refused.stderr).to.contain(`[ERR_TLS] TLS connection to peer0.org1.example.com at grpcs://${devnet.peer('Org1MSP').endpoint} failed`);
    });

    it('refuses to overwrite an item that exists with another definition', async () => {
      const changed: TemplatePackage = { ...tea, items: tea.items.map((i) => (i.id === 'tea_garden' ? { ...i, maxLength: 64 } : i)) };
      let error: Error | undefined;
      await loadTemplatePackage(client, changed).catch((e: Error) => (error = e));
      expect(error?.message).to.contain('tea_garden is already defined on chain with a different definition');
      expect((await client.process.getItem('tea_garden')).maxLength).to.equal(128);
    });
  });
});
