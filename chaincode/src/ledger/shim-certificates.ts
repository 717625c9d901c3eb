import { dirname } from 'path';

/**
 * fabric-shim builds a ClientIdentity for every transaction and parses the creator's X.509
 * certificate for it with @fidm/x509 (ASN.1 decoding and schema validation in JavaScript): about a
 * third of the shim's CPU per transaction, for the few certificates a network's clients use.
 * Certificate.fromPEM is made to remember its result per PEM text. A parse is a pure function of
 * those bytes, so a remembered one is what a new parse would give on any peer: this per-process
 * state cannot make two endorsers answer differently. Failures are not remembered (they throw again).
 */
interface CertificateClass {
  fromPEM(data: string | Buffer): object;
}

const PATCHED = Symbol.for('trace.rememberCertificates');
/** Distinct certificates remembered; the map starts over when full (a network has far fewer clients). */
export const MAX_CERTIFICATES = 1000;

/** The @fidm/x509 the shim parses with (its own dependency, wherever the installer put it). */
function shimX509(): { Certificate: CertificateClass } {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(require.resolve('@fidm/x509', { paths: [dirname(require.resolve('fabric-shim'))] }));
}

export function rememberParsedCertificates(x509 = shimX509()): void {
  const cls = x509.Certificate as CertificateClass & { [PATCHED]?: boolean };
  const parse = cls?.fromPEM;
  // A library of another shape keeps its own behaviour: a slower parse is no reason to stop the chaincode.
  if (typeof parse !== 'function' || cls[PATCHED]) return;
  const parsed = new Map<string, object>();
  cls.fromPEM = function (data) {
    const pem = typeof data === 'string' ? data : Buffer.from(data).toString('latin1');
    let cert = parsed.get(pem);
    if (cert === undefined) {
      cert = parse.call(this, data);
      if (parsed.size >= MAX_CERTIFICATES) parsed.clear();
      // Frozen: a caller that changed the shared object would change what the next caller reads.
      parsed.set(pem, Object.freeze(cert));
    }
    return cert;
  };
  cls[PATCHED] = true;
}
