import { expect } from 'chai';
import * as grpc from '@grpc/grpc-js';
import { common, gateway as gpb, ledger, msp, peer } from '@hyperledger/fabric-protos';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CertificateAuthority } from '../src/devnet/crypto/ca';
import { loadPrivateKey, sha256, signMessage } from '../src/devnet/crypto/ecdsa';
import { Client, fileSigner, gatewayClient, RunningDevnet, SignerFn, startDevnet, utf8 } from './support/devnet-process';

const Code = peer.TxValidationCode;

/** An endorsed transaction taken apart, to be edited at any level and put back together bottom up. */
interface Parts {
  envelope: common.Envelope;
  payload: common.Payload;
  channelHeader: common.ChannelHeader;
  signatureHeader: common.SignatureHeader;
  transaction: peer.Transaction;
  actionPayload: peer.ChaincodeActionPayload;
  responsePayload: peer.ProposalResponsePayload;
  chaincodeAction: peer.ChaincodeAction;
  rwset: ledger.rwset.TxReadWriteSet;
}

function takeApart(envelope: common.Envelope): Parts {
  const payload = common.Payload.deserializeBinary(envelope.getPayload_asU8());
  const header = payload.getHeader()!;
  const transaction = peer.Transaction.deserializeBinary(payload.getData_asU8());
  const actionPayload = peer.ChaincodeActionPayload.deserializeBinary(transaction.getActionsList()[0].getPayload_asU8());
  const responsePayload = peer.ProposalResponsePayload.deserializeBinary(actionPayload.getAction()!.getProposalResponsePayload_asU8());
  const chaincodeAction = peer.ChaincodeAction.deserializeBinary(responsePayload.getExtension_asU8());
  return {
    envelope,
    payload,
    channelHeader: common.ChannelHeader.deserializeBinary(header.getChannelHeader_asU8()),
    signatureHeader: common.SignatureHeader.deserializeBinary(header.getSignatureHeader_asU8()),
    transaction,
    actionPayload,
    responsePayload,
    chaincodeAction,
    rwset: ledger.rwset.TxReadWriteSet.deserializeBinary(chaincodeAction.getResults_asU8()),
  };
}

/** The payload bytes of the (edited) parts; unedited parts serialise to the bytes they came from. */
function putTogether(p: Parts): Uint8Array {
  p.chaincodeAction.setResults(p.rwset.serializeBinary());
  p.responsePayload.setExtension$(p.chaincodeAction.serializeBinary());
  p.actionPayload.getAction()!.setProposalResponsePayload(p.responsePayload.serializeBinary());
  p.transaction.getActionsList()[0].setPayload(p.actionPayload.serializeBinary());
  p.payload.setData(p.transaction.serializeBinary());
  p.payload.getHeader()!.setChannelHeader(p.channelHeader.serializeBinary());
  p.payload.getHeader()!.setSignatureHeader(p.signatureHeader.serializeBinary());
  return p.payload.serializeBinary();
}

/** The first write of the transaction's own namespace, to change the value it writes. */
function firstWrite(p: Parts, namespace: string): { set(value: string): void } {
  const ns = p.rwset.getNsRwsetList().find((n) => n.getNamespace() === namespace)!;
  const kv = ledger.rwset.kvrwset.KVRWSet.deserializeBinary(ns.getRwset_asU8());
  return {
    set(value: string) {
      kv.getWritesList()[0].setValue(Buffer.from(value));
      ns.setRwset(kv.serializeBinary());
    },
  };
}

/** Submits through the Gateway's raw Submit, past every check the official client would make. */
function submitRaw(c: Client, channel: string, txId: string, payload: Uint8Array, signature: Uint8Array): Promise<void> {
  const env = new common.Envelope();
  env.setPayload(payload);
  env.setSignature(signature);
  const req = new gpb.SubmitRequest();
  req.setTransactionId(txId);
  req.setChannelId(channel);
  req.setPreparedTransaction(env);
  return new Promise((resolve, reject) => {
    c.client.makeUnaryRequest(
      '/gateway.Gateway/Submit',
      (m: gpb.SubmitRequest) => Buffer.from(m.serializeBinary()),
      (b: Buffer) => gpb.SubmitResponse.deserializeBinary(b),
      req,
      (err) => (err ? reject(err) : resolve()),
    );
  });
}

/** The validation code the committer wrote for txId, from the blocks from `from` on. */
async function validationCode(c: Client, from: bigint, txId: string): Promise<number> {
  const blocks = await c.network.getBlockEvents({ startBlock: from });
  try {
    for await (const block of blocks) {
      const filter = block.getMetadata()!.getMetadataList_asU8()[common.BlockMetadataIndex.TRANSACTIONS_FILTER];
      const data = block.getData()!.getDataList_asU8();
      for (let i = 0; i < data.length; i++) {
        const payload = common.Payload.deserializeBinary(common.Envelope.deserializeBinary(data[i]).getPayload_asU8());
        if (common.ChannelHeader.deserializeBinary(payload.getHeader()!.getChannelHeader_asU8()).getTxId() === txId) return filter[i];
      }
    }
  } finally {
    blocks.close();
  }
  throw new Error(`block events ended without ${txId}`);
}

describe('devnet validation of transactions crafted past the gateway', function () {
  this.timeout(120_000);
  let devnet: RunningDevnet;
  let org1: Client;
  let sign: SignerFn;
  let n = 0;

  before(async () => {
    devnet = await startDevnet();
    org1 = gatewayClient(devnet);
    sign = fileSigner(devnet.user('Org1MSP').keyPath);
  });

  after(async () => {
    org1?.close();
    await devnet?.stop();
  });

  /** A fresh key holding 'before' (committed), and an endorsed, unsubmitted put of 'after' on it. */
  async function endorsedPut(): Promise<{ key: string; parts: Parts; txId: string; committedAt: bigint }> {
    const key = `tampered-${++n}`;
    const status = await (await org1.contract.newProposal('put', { arguments: [key, 'before'] }).endorse().then((t) => t.submit())).getStatus();
    expect(status.code).to.equal(Code.VALID);
    const tx = await org1.contract.newProposal('put', { arguments: [key, 'after'] }).endorse();
    const prepared = gpb.PreparedTransaction.deserializeBinary(tx.getBytes());
    return { key, parts: takeApart(prepared.getEnvelope()!), txId: tx.getTransactionId(), committedAt: status.blockNumber };
  }

  async function valueOf(key: string): Promise<string> {
    return utf8(await org1.contract.evaluateTransaction('get', key));
  }

  /** Submits the edited parts signed by Org1's client and returns the code its block gave it. */
  async function commitEdited(parts: Parts, txId: string, from: bigint): Promise<number> {
    const payload = putTogether(parts);
    await submitRaw(org1, devnet.channel, txId, payload, await sign(payload));
    return validationCode(org1, from, txId);
  }

  it('commits the untouched parts put back together (the harness alone changes nothing)', async () => {
    const { key, parts, txId, committedAt } = await endorsedPut();
    expect(await commitEdited(parts, txId, committedAt + 1n)).to.equal(Code.VALID);
    expect(await valueOf(key)).to.equal('after');
  });

  describe('refused by the orderer at Submit (never ordered)', () => {
    async function expectAborted(p: Promise<void>, status: string): Promise<void> {
      const err = await p.then(
        () => undefined,
        (e: grpc.ServiceError) => e,
      );
      expect(err, 'Submit should fail').to.not.equal(undefined);
      expect(err!.code).to.equal(grpc.status.ABORTED);
      expect(err!.details).to.contain(`status=${status}`);
    }

    /** After a refusal nothing of it was ordered: the next transaction lands in the very next block. */
    async function expectNothingOrdered(key: string, committedAt: bigint): Promise<void> {
      expect(await valueOf(key)).to.equal('before');
      const next = await (await org1.contract.newProposal('put', { arguments: [`${key}-next`, 'x'] }).endorse().then((t) => t.submit())).getStatus();
      expect(next.blockNumber).to.equal(committedAt + 1n);
    }

    it('a bad creator signature → FORBIDDEN', async () => {
      const { key, parts, txId, committedAt } = await endorsedPut();
      const payload = putTogether(parts);
      const signature = Buffer.from(await sign(payload));
      signature[signature.length - 1] ^= 0xff;
      await expectAborted(submitRaw(org1, devnet.channel, txId, payload, signature), 'FORBIDDEN');
      await expectNothingOrdered(key, committedAt);
    });

    it('signed by an identity no channel CA issued, under a known MSP id → FORBIDDEN', async () => {
      const { key, parts, committedAt } = await endorsedPut();
      const rogue = await CertificateAuthority.open(mkdtempSync(join(tmpdir(), 'rogue-')), 'Org1MSP', 'org1.example.com');
      const files = await rogue.issue('mallory', { ou: 'client' });
      const creator = new msp.SerializedIdentity();
      creator.setMspid('Org1MSP');
      creator.setIdBytes(readFileSync(files.certPath));
      parts.signatureHeader.setCreator(creator.serializeBinary());
      const txId = sha256(parts.signatureHeader.getNonce_asU8(), creator.serializeBinary()).toString('hex');
      parts.channelHeader.setTxId(txId);
      const payload = putTogether(parts);
      const signature = signMessage(loadPrivateKey(readFileSync(files.keyPath)), payload);
      await expectAborted(submitRaw(org1, devnet.channel, txId, payload, signature), 'FORBIDDEN');
      await expectNothingOrdered(key, committedAt);
    });

    it('signed by a peer (not a channel Writer) → FORBIDDEN', async () => {
      const { key, parts, committedAt } = await endorsedPut();
      const endorser = parts.actionPayload.getAction()!.getEndorsementsList()[0].getEndorser_asU8();
      parts.signatureHeader.setCreator(endorser);
      const txId = sha256(parts.signatureHeader.getNonce_asU8(), endorser).toString('hex');
      parts.channelHeader.setTxId(txId);
      const payload = putTogether(parts);
      // Signed with the client's key: whatever the signature, a peer is no Writer.
      await expectAborted(submitRaw(org1, devnet.channel, txId, payload, await sign(payload)), 'FORBIDDEN');
      await expectNothingOrdered(key, committedAt);
    });

    it('addressed to a channel that does not exist → NOT_FOUND', async () => {
      const { key, parts, txId, committedAt } = await endorsedPut();
      parts.channelHeader.setChannelId('otherchannel');
      const payload = putTogether(parts);
      await expectAborted(submitRaw(org1, 'otherchannel', txId, payload, await sign(payload)), 'NOT_FOUND');
      await expectNothingOrdered(key, committedAt);
    });
  });

  describe('ordered, then marked invalid by the committer (state unchanged)', () => {
    const cases: { name: string; code: number; edit(p: Parts): void }[] = [
      {
        name: 'a channel header with epoch ≠ 0',
        code: Code.BAD_COMMON_HEADER,
        edit: (p) => p.channelHeader.setEpoch(1),
      },
      {
        name: 'a tx id that is not H(nonce ‖ creator)',
        code: Code.BAD_PROPOSAL_TXID,
        edit: (p) => p.channelHeader.setTxId(sha256(Buffer.from('another nonce')).toString('hex')),
      },
      {
        name: 'two actions in one transaction',
        code: Code.INVALID_ENDORSER_TRANSACTION,
        edit: (p) => p.transaction.addActions(p.transaction.getActionsList()[0].clone()),
      },
      {
        name: 'arguments that differ from the endorsed proposal (proposal hash mismatch)',
        code: Code.INVALID_ENDORSER_TRANSACTION,
        edit: (p) => {
          const ccpp = peer.ChaincodeProposalPayload.deserializeBinary(p.actionPayload.getChaincodeProposalPayload_asU8());
          const spec = peer.ChaincodeInvocationSpec.deserializeBinary(ccpp.getInput_asU8());
          spec.getChaincodeSpec()!.getInput()!.setArgsList([Buffer.from('put'), Buffer.from('other-key'), Buffer.from('after')]);
          ccpp.setInput(spec.serializeBinary());
          p.actionPayload.setChaincodeProposalPayload(ccpp.serializeBinary());
        },
      },
      {
        name: 'no endorsement at all',
        code: Code.ENDORSEMENT_POLICY_FAILURE,
        edit: (p) => p.actionPayload.getAction()!.setEndorsementsList([]),
      },
      {
        name: 'one org’s endorsement where the policy needs both',
        code: Code.ENDORSEMENT_POLICY_FAILURE,
        edit: (p) => p.actionPayload.getAction()!.setEndorsementsList(p.actionPayload.getAction()!.getEndorsementsList().slice(0, 1)),
      },
      {
        name: 'an endorsement whose signature is forged (another endorsement’s signature under this endorser)',
        code: Code.ENDORSEMENT_POLICY_FAILURE,
        edit: (p) => {
          const [a, b] = p.actionPayload.getAction()!.getEndorsementsList();
          a.setSignature(b.getSignature_asU8());
        },
      },
      {
        name: 'a write set that differs from what the endorsers signed',
        code: Code.ENDORSEMENT_POLICY_FAILURE,
        edit: (p) => firstWrite(p, 'fixture').set('forged'),
      },
      {
        name: 'a read-write set that does not parse',
        code: Code.BAD_RWSET,
        edit: (p) => {
          p.rwset.getNsRwsetList()[0].setRwset(Buffer.from([0xff, 0xff, 0xff]));
        },
      },
      {
        name: 'the same namespace twice in the read-write set',
        code: Code.ILLEGAL_WRITESET,
        edit: (p) => p.rwset.addNsRwset(p.rwset.getNsRwsetList()[0].clone()),
      },
    ];

    for (const c of cases) {
      it(`${c.name} → ${Object.entries(Code).find(([, v]) => v === c.code)![0]}`, async () => {
        const { key, parts, committedAt } = await endorsedPut();
        c.edit(parts);
        // Found by the header's tx id, which one case changes on purpose.
        expect(await commitEdited(parts, parts.channelHeader.getTxId(), committedAt + 1n)).to.equal(c.code);
        expect(await valueOf(key)).to.equal('before');
        expect(await valueOf('other-key')).to.equal('');
      });
    }
  });
});
