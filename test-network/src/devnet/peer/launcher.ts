import { ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ServerDuplexStream } from '@grpc/grpc-js';
import { peer } from '@hyperledger/fabric-protos';
import type { Logger } from 'pino';
import { ChaincodeConnection } from './chaincode';

export interface ChaincodeDefinition {
  name: string;
  version: string;
  /** directory of the chaincode package (its package.json names the contract) */
  path: string;
  /** the node binary that runs the chaincode (a peer's builder image has its own); default this process's */
  node?: string;
  /** deployment settings for the chaincode process, as an operator sets them on a chaincode server */
  env?: Record<string, string>;
}

interface OrgRuntime {
  mspId: string;
  process?: ChildProcess;
  connection?: ChaincodeConnection;
  restarts: number;
  startedAt: number;
  restartTimer?: NodeJS.Timeout;
}

/**
 * Runs the chaincode as Fabric's peers do: one process per org peer, started with the real
 * shim (`fabric-chaincode-node start`), registering back over ChaincodeSupport/Register.
 * A process that dies is restarted; its transactions in flight fail.
 */
export class ChaincodeLauncher {
  private readonly orgs = new Map<string, OrgRuntime>();
  private stopping = false;
  private readonly waiters: (() => void)[] = [];

  constructor(
    readonly definition: ChaincodeDefinition,
    mspIds: string[],
    private readonly peerAddress: () => string,
    private readonly logDir: string,
    private readonly log: Logger,
  ) {
    if (definition.node && !existsSync(definition.node)) throw new Error(`chaincode node binary not found: ${definition.node}`);
    for (const mspId of mspIds) this.orgs.set(mspId, { mspId, restarts: 0, startedAt: 0 });
  }

  chaincodeId(mspId: string): string {
    return `${this.definition.name}:${mspId}`;
  }

  connection(mspId: string): ChaincodeConnection | undefined {
    const c = this.orgs.get(mspId)?.connection;
    return c?.isOpen ? c : undefined;
  }

  pid(mspId: string): number | undefined {
    return this.orgs.get(mspId)?.process?.pid;
  }

  start(): void {
    mkdirSync(this.logDir, { recursive: true });
    for (const org of this.orgs.values()) this.spawn(org);
  }

  /** Resolves when every org's chaincode has registered. */
  async ready(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (![...this.orgs.values()].every((o) => o.connection?.isOpen)) {
      if (Date.now() > deadline) throw new Error(`chaincode ${this.definition.name} did not register within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 100);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /**
   * The package's `npm start` command, as Fabric's Node builder runs it, without npm in between:
   * `fabric-chaincode-node start` (contract API) or `node <file>` (a shim chaincode of its own).
   */
  private startCommand(): { command: string; args: string[] } {
    const path = this.definition.path;
    const pkg = JSON.parse(readFileSync(join(path, 'package.json'), 'utf8')) as { scripts?: { start?: string } };
    const words = (pkg.scripts?.start ?? 'fabric-chaincode-node start').trim().split(/\s+/);
    const node = this.definition.node ?? process.execPath;
    if (words[0] === 'fabric-chaincode-node') {
      const shimCli = join(dirname(require.resolve('fabric-shim/package.json', { paths: [path] })), 'cli.js');
      return { command: node, args: [shimCli, ...words.slice(1)] };
    }
    if (words[0] === 'node') return { command: node, args: words.slice(1) };
    return { command: 'npm', args: ['start', '--'] };
  }

  /** PATH with the chosen node first, as in a builder image, for `npm start` and anything the chaincode runs itself. */
  private path(): string {
    const inherited = process.env.PATH ?? '';
    return this.definition.node ? `${dirname(this.definition.node)}:${inherited}` : inherited;
  }

  private spawn(org: OrgRuntime): void {
    const start = this.startCommand();
    const logPath = join(this.logDir, `chaincode-${this.definition.name}-${org.mspId}.log`);
    const out = openSync(logPath, 'a');
    const child = spawn(
      start.command,
      [...start.args, '--peer.address', this.peerAddress(), '--chaincode-id-name', this.chaincodeId(org.mspId)],
      {
        cwd: this.definition.path,
        env: { ...process.env, ...this.definition.env, PATH: this.path(), CORE_PEER_LOCALMSPID: org.mspId, CORE_CHAINCODE_LOGGING_LEVEL: process.env.CORE_CHAINCODE_LOGGING_LEVEL ?? 'warning' },
        stdio: ['ignore', out, out],
      },
    );
    closeSync(out);
    org.process = child;
    org.startedAt = Date.now();
    this.log.info({ event: 'chaincode.spawn', chaincode: this.definition.name, mspId: org.mspId, pid: child.pid, command: start.command, log: logPath });
    child.on('exit', (code, signal) => {
      if (org.process !== child) return;
      org.process = undefined;
      org.connection?.close('chaincode stream terminated');
      if (this.stopping) return;
      // Back off when the chaincode keeps dying right after start.
      org.restarts = Date.now() - org.startedAt < 5000 ? org.restarts + 1 : 0;
      const delay = Math.min(5000, 100 * 2 ** Math.min(org.restarts, 6));
      this.log.warn({ event: 'chaincode.exit', chaincode: this.definition.name, mspId: org.mspId, code, signal, restartInMs: delay });
      org.restartTimer = setTimeout(() => this.spawn(org), delay);
    });
  }

  /** ChaincodeSupport/Register: the chaincode speaks first with REGISTER. */
  register(stream: ServerDuplexStream<peer.ChaincodeMessage, peer.ChaincodeMessage>): void {
    const T = peer.ChaincodeMessage.Type;
    stream.once('data', (msg: peer.ChaincodeMessage) => {
      const reject = (why: string) => {
        const err = new peer.ChaincodeMessage();
        err.setType(T.ERROR);
        err.setPayload(Buffer.from(why));
        stream.write(err);
        stream.end();
      };
      if (msg.getType() !== T.REGISTER) return reject(`expected REGISTER, got message type ${msg.getType()}`);
      let name = '';
      try {
        name = peer.ChaincodeID.deserializeBinary(msg.getPayload_asU8()).getName();
      } catch {
        return reject('malformed REGISTER payload');
      }
      const org = [...this.orgs.values()].find((o) => this.chaincodeId(o.mspId) === name);
      if (!org) return reject(`peer will not accept external chaincode connection ${name} (except in dev mode)`);
      if (org.connection?.isOpen) return reject(`duplicate chaincodeID: ${name}`);
      const connection = new ChaincodeConnection(stream, () => {
        if (org.connection === connection) org.connection = undefined;
      });
      org.connection = connection;
      for (const type of [T.REGISTERED, T.READY]) {
        const m = new peer.ChaincodeMessage();
        m.setType(type);
        stream.write(m);
      }
      this.log.info({ event: 'chaincode.registered', chaincode: name });
      this.waiters.splice(0).forEach((w) => w());
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const exits: Promise<void>[] = [];
    for (const org of this.orgs.values()) {
      clearTimeout(org.restartTimer);
      org.connection?.close('chaincode stopped');
      const child = org.process;
      if (child && child.exitCode === null) {
        exits.push(new Promise((resolve) => child.once('exit', () => resolve())));
        child.kill('SIGTERM');
        setTimeout(() => child.exitCode === null && child.kill('SIGKILL'), 3000).unref();
      }
    }
    await Promise.all(exits);
  }
}
