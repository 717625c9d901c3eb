'use strict';
/* global process, exports, setTimeout */
/**
 * Mocha root hook for every workspace's suite (no `exit: true`): tests close what they open. After the
 * last test the process should end by itself; if something still holds it open a few seconds later,
 * the run fails and names what is left, instead of hanging or being cut off silently.
 */
const GRACE_MS = Number(process.env.MOCHA_LEAK_GRACE_MS || 15000);

exports.mochaHooks = {
  afterAll() {
    setTimeout(() => {
      const open = process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap' && r !== 'Timeout');
      // child processes are the usual culprit: name them
      const children = process._getActiveHandles().filter((h) => h && h.constructor && h.constructor.name === 'ChildProcess').map((c) => `pid ${c.pid}: ${c.spawnargs.join(' ')}`);
      process.stderr.write(`leak check: the process did not end within ${GRACE_MS} ms of the last test; still open: ${open.join(', ') || '(timers only)'}${children.length ? `\n  ${children.join('\n  ')}` : ''}\n`);
      // mocha's own 'exit' listener would reset the code to its failure count (0): have the last word
      process.on('exit', () => {
        process.exitCode = 1;
      });
      process.exit(1);
    }, GRACE_MS).unref();
  },
};
