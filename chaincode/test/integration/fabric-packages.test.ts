import { expect } from 'chai';
import { ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, realpathSync } from 'node:fs';
import { connect } from 'node:http2';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { testClock } from '@trace/test-network';
import { chaincodeProcesses, completeTeaLot, startConsortium, TestConsortium } from './consortium';

const clock = testClock();

/** Written by `npm run package:fabric` (npm test builds it before the workspace tests). */
const FABRIC_BUILD = resolve(__dirname, '../../../../build/fabric');

/** The environment of a user's shell: no npm_* settings inherited from the workspace's own npm run. */
const cleanEnv = (): NodeJS.ProcessEnv => Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
const versionIn = (dir: string, name: string) => (JSON.parse(readFileSync(require.resolve(`${name}/package.json`, { paths: [dir] }), 'utf8')) as { version: string }).version;

/** Unpacks a lifecycle package (metadata.json + code.tar.gz) into a fresh directory. */
function unpack(pkg: string): { dir: string; metadata: { type: string; label: string } } {
  if (!existsSync(pkg)) throw new Error(`${pkg} is missing: run \`npm run package:fabric\` (npm test does)`);
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'fabric-pkg-')));
  execFileSync('tar', ['xzf', pkg, '-C', dir]);
  expect(execFileSync('tar', ['tzf', pkg], { encoding: 'utf8' }).trim().split('\n').sort()).to.deep.equal(['code.tar.gz', 'metadata.json']);
  execFileSync('tar', ['xzf', join(dir, 'code.tar.gz'), '-C', dir]);
  return { dir, metadata: JSON.parse(readFileSync(join(dir, 'metadata.json'), 'utf8')) as { type: string; label: string } };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

/**
 * Dials a chaincode server as a peer does for a ccaas package (gRPC protos.Chaincode/Connect over HTTP/2)
 * and returns the first message it sends, decoded just enough: its type and its payload.
 */
async function firstChaincodeMessage(address: string): Promise<{ type: number; payload: Buffer }> {
  const session = connect(`http://${address}`);
  try {
    const stream = session.request({ ':method': 'POST', ':path': '/protos.Chaincode/Connect', 'content-type': 'application/grpc', te: 'trailers' });
    const frame = await new Promise<Buffer>((res, rej) => {
      let buf = Buffer.alloc(0);
      stream.on('data', (chunk: Buffer) => {
        buf = Buffer.concat([buf, chunk]);
        if (buf.length >= 5 && buf.length >= 5 + buf.readUInt32BE(1)) res(buf.subarray(5, 5 + buf.readUInt32BE(1)));
      });
      stream.on('error', rej);
      stream.on('end', () => rej(new Error('the chaincode server closed the stream without a message')));
      session.on('error', rej);
    });
    // ChaincodeMessage: field 1 type (varint), field 3 payload (bytes); the others are skipped.
    const msg: { type: number; payload: Buffer } = { type: -1, payload: Buffer.alloc(0) };
    let i = 0;
    const varint = () => {
      let v = 0;
      for (let shift = 0; ; shift += 7) {
        const b = frame[i++];
        v += (b & 0x7f) * 2 ** shift;
        if (b < 0x80) return v;
      }
    };
    while (i < frame.length) {
      const key = varint();
      const [field, wire] = [key >> 3, key & 7];
      if (wire === 0) {
        const v = varint();
        if (field === 1) msg.type = v;
      } else if (wire === 2) {
        const len = varint();
        if (field === 3) msg.payload = frame.subarray(i, i + len);
        i += len;
      } else throw new Error(`unexpected wire type ${wire}`);
    }
    stream.close();
    return msg;
  } finally {
    session.close();
  }
}

describe('Fabric 2.5 packages from package:fabric', function () {
  this.timeout(600_000);

  describe('the Node package, installed on its own from its lockfile', () => {
    let src: string;
    let label: string;

    before(() => {
      const { dir, metadata } = unpack(join(FABRIC_BUILD, 'trace-node.tar.gz'));
      expect(metadata.type).to.equal('node');
      label = metadata.label;
      src = join(dir, 'src');
      // As a peer's Node builder installs it: in an empty directory, no workspace, only what the lockfile says.
      execFileSync('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund'], { cwd: src, env: cleanEnv(), stdio: ['ignore', 'ignore', 'inherit'] });
    });

    it('resolves class-transformer 0.5.1 for the chaincode and for fabric-contract-api, from the install itself', () => {
      expect(label).to.match(/^trace_\d+\.\d+\.\d+$/);
      expect(require.resolve('fabric-shim/package.json', { paths: [src] }).startsWith(src + '/node_modules/')).to.equal(true);
      expect(versionIn(src, 'fabric-contract-api')).to.equal('2.5.8');
      expect(versionIn(src, 'class-transformer')).to.equal('0.5.1');
      expect(versionIn(join(src, 'node_modules', 'fabric-contract-api'), 'class-transformer')).to.equal('0.5.1');
    });

    it('records, audits and traces a whole tea lot on that install', async () => {
      let net: TestConsortium | undefined;
      try {
        net = await startConsortium(src);
        expect(chaincodeProcesses(net.devnet).every((p) => p.cwd === src)).to.equal(true);
        await completeTeaLot(net.clients, 'fabric-node-lot', clock, 600);
        const trace = await net.clients.retail.trace.getTrace('fabric-node-lot');
        expect(trace.stages.map((s) => Boolean(s.record))).to.deep.equal(trace.stages.map(() => true));
        expect(trace.audit?.verdict).to.equal('approved');
      } finally {
        await net?.close();
      }
    });

    it('passes the rejection suite on that install', () => {
      // The suite as it is, in its own mocha run, with its devnet running the standalone install.
      const suite = join(__dirname, 'rejections.test.js');
      const run = spawnSync(process.execPath, [require.resolve('mocha/bin/mocha.js'), '--no-config', '--timeout', '120000', '--exit', suite], {
        cwd: resolve(__dirname, '../../..'),
        env: { ...process.env, CHAINCODE_UNDER_TEST: src },
        encoding: 'utf8',
      });
      const out = `${run.stdout}\n${run.stderr}`;
      expect(run.status, out.slice(-4000)).to.equal(0);
      expect(out).to.match(/\d+ passing/);
      expect(out).not.to.match(/\d+ (failing|pending)/);
    });

    describe('the chaincode server entry (dist/server.js, the ccaas image command)', () => {
      let server: ChildProcess | undefined;
      afterEach(() => {
        server?.kill('SIGTERM');
        server = undefined;
      });

      it('serves protos.Chaincode/Connect and registers with its CHAINCODE_ID', async () => {
        const address = `127.0.0.1:${await freePort()}`;
        const chaincodeId = `${label}:${'a'.repeat(64)}`;
        server = spawn(process.execPath, ['dist/server.js'], { cwd: src, env: { ...cleanEnv(), CHAINCODE_SERVER_ADDRESS: address, CHAINCODE_ID: chaincodeId }, stdio: 'ignore' });
        let msg: { type: number; payload: Buffer } | undefined;
        for (let attempt = 0; !msg; attempt++) {
          try {
            msg = await firstChaincodeMessage(address);
          } catch (e) {
            if (attempt > 50) throw e;
            await new Promise((r) => setTimeout(r, 200));
          }
        }
        expect(msg.type).to.equal(1); // REGISTER
        expect(msg.payload.toString('latin1')).to.include(chaincodeId); // ChaincodeID.name
      });

      it('refuses to start without CHAINCODE_ID, or with half a TLS configuration, with ERR_CONFIG', () => {
        const run = (env: NodeJS.ProcessEnv) => spawnSync(process.execPath, ['dist/server.js'], { cwd: src, env: { ...cleanEnv(), ...env }, encoding: 'utf8' });
        const noId = run({ CHAINCODE_SERVER_ADDRESS: '127.0.0.1:0' });
        expect(noId.status).to.equal(1);
        expect(noId.stderr).to.include('[ERR_CONFIG] CHAINCODE_ID is not set');
        const halfTls = run({ CHAINCODE_SERVER_ADDRESS: '127.0.0.1:0', CHAINCODE_ID: 'x', CHAINCODE_TLS_KEY_FILE: join(src, 'package.json') });
        expect(halfTls.status).to.equal(1);
        expect(halfTls.stderr).to.include('[ERR_CONFIG] CHAINCODE_TLS_KEY_FILE and CHAINCODE_TLS_CERT_FILE go together');
      });
    });
  });
});
