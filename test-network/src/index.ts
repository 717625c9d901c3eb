export { Devnet, DevnetOptions } from './devnet/network';
export { DevnetAccess, devnetAccess, PeerAccess, TlsMode, UserFiles } from './devnet/layout';
export { CertificateAuthority, IdentityFiles, IssueOptions, TlsPair } from './devnet/crypto/ca';
export { signMessage, toHighS, toLowS, verifyMessage, sha256 } from './devnet/crypto/ecdsa';
export { startDevnet, RunningDevnet, findPids } from './devnet/spawn';
export { TbaasEmulator, EmulatorAccount, EmulatorOptions, AccessAddress, UserCredentials } from './tbaas/emulator';
export { verifyTc3, tc3Signature } from './tbaas/tc3';
export { writeClientFile } from './tbaas/client-file';
export { seededRandom, withSeed } from './seeded-random';
