import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { basename, join } from 'node:path';

/**
 * A preload that CPU-profiles a Node process until it gets SIGTERM, then writes
 * `<CPU_PROFILE_DIR>/<script>-<pid>.cpuprofile` (open in Chrome DevTools or summarise with
 * `node scripts/dist/src/bench/profile-top.js`). Child processes inherit NODE_OPTIONS, so a
 * benchmark run with it profiles the devnet, its chaincode processes and the bench clients:
 *
 *   CPU_PROFILE_DIR=/tmp/prof NODE_OPTIONS="--require $PWD/scripts/dist/src/bench/cpu-profile.js" \
 *     node scripts/dist/src/bench/trace.js 300
 *
 * CPU_PROFILE_MATCH (a substring of the command line, e.g. `chaincode-id-name`) limits it to some processes.
 */
const dir = process.env.CPU_PROFILE_DIR;
const match = process.env.CPU_PROFILE_MATCH;
if (dir && (!match || process.argv.join(' ').includes(match))) {
  const session = new Session();
  session.connect();
  // 200 µs between samples: per-transaction work of a few ms still gets enough samples.
  session.post('Profiler.enable', () => session.post('Profiler.setSamplingInterval', { interval: 200 }, () => session.post('Profiler.start')));
  let written = false;
  const write = () => {
    if (written) return;
    written = true;
    // A same-thread inspector session answers synchronously, so the file is written before this returns.
    session.post('Profiler.stop', (err, result) => {
      if (err) return;
      const script = basename(process.argv[1] ?? 'node').replace(/\.js$/, '');
      writeFileSync(join(dir, `${script}-${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  };
  process.on('exit', write);
  process.prependListener('SIGTERM', () => {
    write();
    // Alone on SIGTERM, this listener would stop the default exit: keep it.
    if (process.listenerCount('SIGTERM') === 1) process.exit(143);
  });
}
