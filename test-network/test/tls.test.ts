import { expect } from 'chai';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { CertificateAuthority, RunningDevnet, startDevnet } from '../src';

/** Handshake result of a TLS connection to host:port trusting ca, with an optional client certificate. */
function handshake(endpoint: string, ca: Buffer, servername: string, client?: { cert: Buffer; key: Buffer }): Promise<{ authorized: boolean; error?: string; peerCn?: string }> {
  const [host, port] = endpoint.split(':');
  return new Promise((resolve) => {
    const socket = tlsConnect({ host, port: Number(port), ca, servername, ALPNProtocols: ['h2'], rejectUnauthorized: false, ...client });
    socket.once('secureConnect', () => {
      resolve({ authorized: socket.authorized, error: socket.authorizationError?.toString(), peerCn: socket.getPeerCertificate().subject?.CN as string | undefined });
      socket.destroy();
    });
    socket.once('error', (e) => resolve({ authorized: false, error: e.message }));
  });
}

describe('devnet TLS', () => {
  it('a TLS CA issues server certificates with the SANs and serverAuth, and client certificates with clientAuth only', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tlsca-'));
    const signing = await CertificateAuthority.open(dir, 'Org1MSP', 'org1.example.com');
    const tlsCa = await CertificateAuthority.open(dir, 'Org1MSP', 'org1.example.com', 'tlsca');
    expect(new X509Certificate(tlsCa.certPem).subject).to.contain('CN=tlsca.org1.example.com');
    const server = await tlsCa.issueTls(join(dir, 'server'), 'peer0.org1.example.com', ['127.0.0.1', 'localhost', 'peer0.org1.example.com']);
    const cert = new X509Certificate(readFileSync(server.certPath));
    expect(cert.subjectAltName).to.equal('IP Address:127.0.0.1, DNS:localhost, DNS:peer0.org1.example.com');
    expect(cert.keyUsage).to.deep.equal(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
    expect(cert.checkIssued(new X509Certificate(tlsCa.certPem))).to.equal(true);
    expect(cert.checkIssued(new X509Certificate(signing.certPem))).to.equal(false);
    expect(readFileSync(server.caPath, 'utf8')).to.equal(tlsCa.certPem);
    const client = new X509Certificate(readFileSync((await tlsCa.issueTls(join(dir, 'client'), 'User1@org1.example.com')).certPath));
    expect([client.subjectAltName, client.keyUsage]).to.deep.equal([undefined, ['1.3.6.1.5.5.7.3.2']]);
  });

  describe('--mtls', () => {
    let devnet: RunningDevnet;

    before(async () => {
      devnet = await startDevnet(['--mtls']);
    });

    after(async () => {
      await devnet?.stop();
    });

    it("serves each org on its own port with that org's server certificate, checked against that org's TLS CA", async () => {
      const [org1, org2] = [devnet.peer('Org1MSP'), devnet.peer('Org2MSP')];
      expect(new Set([devnet.endpoint, org1.endpoint, org2.endpoint]).size).to.equal(3);
      const user = devnet.user('Org1MSP');
      const client = { cert: readFileSync(user.tlsCertPath), key: readFileSync(user.tlsKeyPath) };
      const own = await handshake(org2.endpoint, readFileSync(org2.tlsCaPath!), org2.serverName, client);
      expect(own).to.deep.include({ authorized: true, peerCn: 'peer0.org2.example.com' });
      const other = await handshake(org2.endpoint, readFileSync(org1.tlsCaPath!), org2.serverName, client);
      expect(other.authorized).to.equal(false);
      expect(other.error).to.match(/^(SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE)$/);
    });

    it("serves the orderer's Broadcast (and the Gateway) on the main port with the orderer's certificate, named in every profile", async () => {
      const user = devnet.user('Org1MSP');
      const client = { cert: readFileSync(user.tlsCertPath), key: readFileSync(user.tlsKeyPath) };
      const ordererCa = join(devnet.dataDir, 'crypto', 'OrdererMSP', 'tlsca', 'ca.pem');
      expect(await handshake(devnet.endpoint, readFileSync(ordererCa), 'orderer0.orderer.example.com', client)).to.deep.include({ authorized: true, peerCn: 'orderer0.orderer.example.com' });
      const profile = JSON.parse(readFileSync(devnet.profiles.Org1MSP, 'utf8')) as { orderers: Record<string, { url: string; tlsCACerts: { path: string } }> };
      expect(profile.orderers['orderer0.orderer.example.com']).to.deep.include({ url: `grpcs://${devnet.endpoint}`, tlsCACerts: { path: ordererCa } });
    });

    it('writes TLS client certificates and MSP directories for its users, and profiles with grpcs:// peers', () => {
      const user = devnet.user('Org2MSP', 'Admin');
      for (const f of [user.certPath, user.keyPath, user.tlsCertPath, user.tlsKeyPath, join(user.mspDir, 'cacerts', 'ca.pem')]) expect(existsSync(f), f).to.equal(true);
      expect(new X509Certificate(readFileSync(user.tlsCertPath)).checkIssued(new X509Certificate(readFileSync(devnet.peer('Org2MSP').tlsCaPath!)))).to.equal(true);
      const profile = JSON.parse(readFileSync(devnet.profiles.Org2MSP, 'utf8')) as { client: { organization: string }; peers: Record<string, { url: string }> };
      expect(profile.client.organization).to.equal('Org2');
      expect(profile.peers['peer0.org2.example.com'].url).to.equal(`grpcs://${devnet.peer('Org2MSP').endpoint}`);
      expect(existsSync(join(devnet.dataDir, 'connection.json'))).to.equal(false);
    });
  });
});
