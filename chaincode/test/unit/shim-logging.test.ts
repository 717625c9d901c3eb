import { expect } from 'chai';
import { Writable } from 'node:stream';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { dropLogRecordsBelowLevel } from '../../src/ledger/shim-logging';

/** The winston the workspace's shim 2.5 logs with, and the TBaaS package's (3.3.3, built by package:tbaas). */
const WINSTONS = {
  workspace: require.resolve('winston', { paths: [dirname(require.resolve('fabric-shim'))] }),
  tbaas: resolve(__dirname, '../../../../build/tbaas/node_modules/winston'),
};

describe('shim logging', () => {
  for (const [name, path] of Object.entries(WINSTONS)) it(`formats and writes records at or above the level, and never formats the ones below (${name} winston)`, async () => {
    if (!existsSync(path)) throw new Error(`${path} is missing: run \`node scripts/dist/src/package-tbaas.js --install\` (npm test does)`);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const winston = require(path);
    dropLogRecordsBelowLevel(winston);
    dropLogRecordsBelowLevel(winston); // idempotent: one wrapper, not two
    let formatted = 0;
    const lines: string[] = [];
    const counting = winston.format((info: unknown) => {
      formatted++;
      return info;
    });
    const logger = winston.createLogger({
      level: 'warn',
      format: winston.format.combine(counting(), winston.format.printf((i: { level: string; message: string }) => `${i.level} ${i.message}`)),
      transports: [new winston.transports.Stream({ stream: new Writable({ write: (chunk, _enc, cb) => (lines.push(String(chunk).trim()), cb()) }) })],
    });
    // Records below the level do not even enter the logger's stream.
    const transform = logger._transform;
    let transformed = 0;
    logger._transform = function (...args: unknown[]) {
      transformed++;
      return transform.apply(this, args);
    };
    let written = false;
    logger.write({ level: 'debug', message: 'with a callback' }, () => (written = true));
    logger.debug('per-message detail');
    logger.info('per-transaction detail');
    logger.warn('something to look at');
    logger.error('a failure');
    expect(formatted).to.equal(2);
    expect(transformed).to.equal(2);
    expect(written, 'a dropped write still calls back, after returning').to.equal(false);
    await new Promise((r) => process.nextTick(r));
    expect(written).to.equal(true);
    expect(lines).to.deep.equal(['warn something to look at', 'error a failure']);
  });
});
