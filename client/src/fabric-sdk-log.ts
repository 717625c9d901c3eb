import 'fabric-network';
import { format } from 'node:util';

/**
 * The Fabric SDK (fabric-common) logs colored console lines through one shared winston logger
 * (global.hfc.logger) whose level methods all call its log(). Unless HFC_LOGGING configures the
 * SDK's logging, its warnings and errors become one JSON line each on stderr and the rest is dropped.
 */
const shared = (global as { hfc?: { logger?: { log: (level: string, ...args: unknown[]) => void } } }).hfc?.logger;
if (process.env.HFC_LOGGING === undefined && shared) {
  shared.log = (level, ...args) => {
    if (level !== 'warn' && level !== 'error') return;
    process.stderr.write(JSON.stringify({ level, svc: 'fabric-sdk', time: new Date().toISOString(), msg: format(...args.filter((a) => typeof a !== 'function')) }) + '\n');
  };
}
