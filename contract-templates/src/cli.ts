#!/usr/bin/env node
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { LedgerError, ledgerFromConfig, TraceChainClient } from '@trace/client';
import { loadTemplatePackage } from './loader';
import { templates } from './index';

const USAGE = `usage: trace-templates load <tea|liquor|all> [--connection .devnet/connection-org1.json] [--msp Org1MSP] [--user Admin]
  defines the template's items, forms, stages and template version on chain (caller needs the brand or operator role);
  --connection is Fabric's common connection profile (JSON or YAML; TRACE_CHANNEL, TRACE_CHAINCODE, TRACE_MSP_DIR …
  fill in what it lacks) or a TBaaS client file ("type": "tbaas") to load through the TBaaS cloud API`;


async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { connection: { type: 'string' }, msp: { type: 'string' }, user: { type: 'string' } },
  });
  const [cmd, which] = positionals;
  const names = which === 'all' ? (Object.keys(templates) as (keyof typeof templates)[]) : [which as keyof typeof templates];
  if (cmd !== 'load' || names.some((n) => !templates[n])) {
    console.error(USAGE);
    process.exitCode = 2;
    return;
  }
  const ledger = ledgerFromConfig(resolve(values.connection ?? '.devnet/connection-org1.json'), { msp: values.msp, user: values.user ?? 'Admin' });
  try {
    const client = new TraceChainClient(ledger);
    for (const name of names) {
      const report = await loadTemplatePackage(client, templates[name], (done, total, what, outcome) => {
        process.stdout.write(`\r[${String(done).padStart(3)}/${total}] ${outcome.padEnd(8)} ${what}`.padEnd(80));
      });
      process.stdout.write('\n');
      const count = (o: Record<string, string>) => Object.values(o).filter((v) => v === 'defined').length;
      console.log(
        `${report.template}: ${count(report.items)}/${Object.keys(report.items).length} items, ${count(report.forms)}/${Object.keys(report.forms).length} forms, ` +
          `${count(report.stages)}/${Object.keys(report.stages).length} stages newly defined; template ${report.published === 'defined' ? 'published' : 'was already published'}`,
      );
    }
  } finally {
    ledger.close();
  }
}

main().catch((e: Error) => {
  console.error(`trace-templates: ${e instanceof LedgerError ? `[${e.code}] ` : ''}${e.message}`);
  process.exit(1);
});
