import { dirname } from 'path';

/**
 * fabric-shim logs every message it exchanges with the peer at debug level through winston, and
 * winston runs the whole format (timestamp, metadata, colours, printf) before its transport drops
 * the record for its level: about a quarter of the chaincode's CPU in a scan batch. Records below
 * the logger's level are dropped before formatting instead; what is logged is unchanged.
 */
interface WinstonRecord {
  level: string;
  [key: symbol]: unknown;
}
interface WinstonLogger {
  isLevelEnabled(level: string): boolean;
  _transform(info: WinstonRecord, enc: string, callback: () => void): void;
}

const LEVEL = Symbol.for('level');
const PATCHED = Symbol.for('trace.dropBelowLevel');

/** The winston the shim logs with (its own dependency, wherever the installer put it). */
function shimWinston(): { createLogger(): object } {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(require.resolve('winston', { paths: [dirname(require.resolve('fabric-shim'))] }));
}

export function dropLogRecordsBelowLevel(winston = shimWinston()): void {
  // Logger.prototype, reached through an instance: winston 3.3 (the TBaaS package) does not export Logger.
  const proto = Object.getPrototypeOf(Object.getPrototypeOf(winston.createLogger())) as Partial<WinstonLogger> & { [PATCHED]?: boolean };
  const transform = proto._transform;
  // A winston of another shape keeps its own behaviour: slower logging is no reason to stop the chaincode.
  if (proto[PATCHED] || typeof transform !== 'function' || typeof proto.isLevelEnabled !== 'function') return;
  proto._transform = function (this: WinstonLogger, info, enc, callback) {
    const level = (info[LEVEL] as string | undefined) ?? info.level;
    if (!this.isLevelEnabled(level)) return callback();
    return transform.call(this, info, enc, callback);
  };
  proto[PATCHED] = true;
}
