import { dropLogRecordsBelowLevel } from './ledger/shim-logging';
import { rememberParsedCertificates } from './ledger/shim-certificates';
import { skipAlwaysTrueStringChecks } from './ledger/shim-parameters';
import { rememberValidationMetadata } from './ledger/validation-metadata';
import { AssetsContract } from './contracts/assets';
import { CatalogContract } from './contracts/catalog';
import { CodesContract } from './contracts/codes';
import { DevicesContract } from './contracts/devices';
import { ConsortiumContract } from './contracts/consortium';
import { ProcessContract } from './contracts/process';
import { TraceContract } from './contracts/trace';

export { AssetsContract, CatalogContract, CodesContract, ConsortiumContract, DevicesContract, ProcessContract, TraceContract };
export * from './model/consortium';
export * from './model/catalog';
export * from './model/process';
export * from './model/trace';
export * from './model/codes';
export * from './model/devices';
export * from './model/assets';
export * from './model/page';
export { canonicalJson } from './rules/canonical-json';
export { CodeLevel, CodeStatus } from './rules/codes';
export { ERROR_CODES, ErrorCode } from './ledger/errors';
export { Rule, Violation } from './rules/cross-validation';
export { DataItem, ItemValue } from './rules/items';

// Cheaper per-transaction plumbing in the shim and class-validator; behaviour unchanged (see each module).
dropLogRecordsBelowLevel();
rememberParsedCertificates();
skipAlwaysTrueStringChecks();
rememberValidationMetadata();

/** The contracts fabric-chaincode-node serves, by name: consortium, catalog, process, trace, codes, devices, assets. */
export const contracts = [ConsortiumContract, CatalogContract, ProcessContract, TraceContract, CodesContract, DevicesContract, AssetsContract];
export { checkRuleReferences, checkRuleShape } from './rules/cross-validation';
export { checkItemDefinition } from './rules/items';
export { checkStageGraph } from './rules/stage-order';
export { checkEpcisMapping } from './rules/epcis-mapping';
export type { EpcisMapping, EpcisQuantity, EpcisStageMapping } from './rules/epcis-mapping';
