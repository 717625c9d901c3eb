import { expect } from 'chai';
import { Writable } from 'node:stream';
import { dirname } from 'node:path';
import { dropLogRecordsBelowLevel } from '../../src/ledger/shim-logging';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const winston = require(require.resolve('winston', { paths: [dirname(require.resolve('fabric-shim'))] }));

describe('shim logging', () => {
  it('formats and writes records at or above the level, and never formats the ones below', () => {
    dropLogRecordsBelowLevel();
    dropLogRecordsBelowLevel(); // idempotent: one wrapper, not two
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
    logger.debug('per-message detail');
    logger.info('per-transaction detail');
    logger.warn('something to look at');
    logger.error('a failure');
    expect(formatted).to.equal(2);
    expect(lines).to.deep.equal(['warn something to look at', 'error a failure']);
  });
});
