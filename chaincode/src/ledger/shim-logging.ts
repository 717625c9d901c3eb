import { dirname } from 'path';

/**
 * fabric-shim logs every message it exchanges with the peer at debug level through winston, and
 * winston runs the whole format (timestamp, metadata, colours, printf) before its transport drops
 * the record for its level: about a quarter of the chaincode's CPU in a scan batch. Records below
 * the logger's level are dropped before they enter the logger's stream (write) and before
 * formatting (_transform, for records that reach it another way); what is logged is unchanged.
 */
interface WinstonRecord {
  level: string;
  [key: symbol]: unknown;
}
interface WinstonLogger {
  isLevelEnabled(level: string): boolean;
  _transform(info: WinstonRecord, enc: string, callback: () => void): void;
  write(chunk: unknown, enc?: unknown, callback?: unknown): boolean;
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
  const { _transform: transform, write } = proto;
  // A winston of another shape keeps its own behaviour: slower logging is no reason to stop the chaincode.
  if (proto[PATCHED] || typeof transform !== 'function' || typeof write !== 'function' || typeof proto.isLevelEnabled !== 'function') return;
  const below = (logger: WinstonLogger, info: WinstonRecord) => !logger.isLevelEnabled((info[LEVEL] as string | undefined) ?? info.level);
  proto._transform = function (this: WinstonLogger, info, enc, callback) {
    if (below(this, info)) return callback();
    return transform.call(this, info, enc, callback);
  };
  proto.write = function (this: WinstonLogger, chunk, enc, callback) {
    if (typeof chunk === 'object' && chunk !== null && typeof (chunk as WinstonRecord).level === 'string' && below(this, chunk as WinstonRecord)) {
      // As a stream would: the write's callback, if any, runs after this call returns.
      const done = typeof enc === 'function' ? enc : callback;
      if (typeof done === 'function') process.nextTick(done as () => void);
      return true;
    }
    return write.call(this, chunk, enc, callback);
  };
  proto[PATCHED] = true;
}
