import { LedgerError } from './errors';

/** DescribeFabricBlock's documented Response (API 2018-04-16, Fabric 2.3 actions). */
export interface FabricBlock {
  BlockHeight: number;
  BlockHash: string;
  PreBlockHash: string;
  TxCount: number;
  TransactionList: { TxId: string; ChaincodeName: string; Sender: string; CreateTime: string; BlockHeight: number; TxIndex: number }[];
  CreateTimestamp: string;
  ProposerOrg: string;
}

/** DescribeFabricTransaction's documented Response. */
export interface FabricTransaction {
  TxId: string;
  TxHash: string;
  TxStatus: string;
  JoinOrgList: string[];
  Sender: string;
  CreateTime: string;
  BlockHeight: number;
  ChaincodeName: string;
  /** base64 of a JSON text: the proto JSON (original field names) of the ChaincodeInvocationSpec */
  TransactionData: string;
}

/** One chaincode call as the cloud API describes it: what was called, by whom, where and with what outcome. */
export interface InvocationRecord {
  blockNumber: bigint;
  /** position in the block (DescribeFabricBlock's TxIndex) */
  txIndex: number;
  transactionId: string;
  chaincodeName: string;
  /** the first argument of the invocation spec (e.g. trace:recordStage) */
  function: string;
  /** the other arguments, as UTF-8 text (TBaaS's FuncParam are strings) */
  args: string[];
  /** TxStatus: a Fabric validation code name (VALID, MVCC_READ_CONFLICT …) */
  status: string;
  /** Sender as TBaaS names it (on TBaaS an org name such as org-xxxx.fabric-…, not an MSP id) */
  sender: string;
  /** CreateTime as TBaaS prints it (YYYY-MM-DD HH:mm:ss; the time zone is not documented) */
  createTime: string;
}

/** A block of the cloud API: its number, how many transactions it holds, and the invocations among them. */
export interface InvocationBlock {
  number: bigint;
  txCount: number;
  invocations: InvocationRecord[];
}

interface SpecJson {
  chaincode_spec?: { input?: { args?: unknown } };
}

/**
 * The call in a transaction's TransactionData, or undefined for a transaction whose spec has no
 * arguments (a config transaction; Tencent's own example, a _lifecycle transaction, has none
 * either). ERR_TBAAS_FORMAT when the text is not the documented form.
 */
export function invocationOf(tx: FabricTransaction, blockNumber: bigint, txIndex: number): InvocationRecord | undefined {
  let spec: SpecJson;
  let args: string[] | undefined;
  try {
    spec = JSON.parse(Buffer.from(tx.TransactionData, 'base64').toString('utf8')) as SpecJson;
    // the proto JSON of a ChaincodeInvocationSpec: an object whose only field is chaincode_spec
    if (!spec || typeof spec !== 'object' || Array.isArray(spec) || Object.keys(spec).some((k) => k !== 'chaincode_spec')) throw new Error('not a spec');
    const raw = spec.chaincode_spec?.input?.args;
    if (raw !== undefined) {
      if (!Array.isArray(raw) || raw.length === 0 || !raw.every((a) => typeof a === 'string' && /^[A-Za-z0-9+/]*={0,2}$/.test(a))) throw new Error('bad args');
      args = raw.map((a: string) => Buffer.from(a, 'base64').toString('utf8'));
    }
  } catch {
    throw new LedgerError('ERR_TBAAS_FORMAT', `TransactionData of ${tx.TxId} is not the JSON form of a ChaincodeInvocationSpec`);
  }
  if (!args) return undefined;
  return {
    blockNumber,
    txIndex,
    transactionId: tx.TxId,
    chaincodeName: tx.ChaincodeName,
    function: args[0],
    args: args.slice(1),
    status: tx.TxStatus,
    sender: tx.Sender,
    createTime: tx.CreateTime,
  };
}

/**
 * Checks that the transactions the cloud API returned are the ones its block lists (same ids, that
 * block, TxCount of them): ERR_INTEGRITY otherwise, so no misfiled record is indexed.
 */
export function checkBlockAnswers(height: bigint, block: FabricBlock, txs: FabricTransaction[]): void {
  const list = block.TransactionList ?? [];
  const bad = list.length !== block.TxCount || block.BlockHeight !== Number(height) || txs.some((t, i) => t.TxId !== list[i].TxId || t.BlockHeight !== Number(height));
  if (bad) throw new LedgerError('ERR_INTEGRITY', `block ${height}: TBaaS's transaction answers do not match its block (TxCount ${block.TxCount}, ${list.length} listed)`);
}
