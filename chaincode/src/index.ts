import { CatalogContract } from './contracts/catalog';
import { ConsortiumContract } from './contracts/consortium';
import { ProcessContract } from './contracts/process';
import { TraceContract } from './contracts/trace';

export { CatalogContract, ConsortiumContract, ProcessContract, TraceContract };
export * from './model/consortium';
export * from './model/catalog';
export * from './model/process';
export * from './model/trace';
export { ERROR_CODES, ErrorCode } from './ledger/errors';
export { Rule, Violation } from './rules/cross-validation';
export { DataItem, ItemValue } from './rules/items';

/** The contracts fabric-chaincode-node serves, by name: consortium, catalog, process, trace. */
export const contracts = [ConsortiumContract, CatalogContract, ProcessContract, TraceContract];
export { checkRuleReferences, checkRuleShape } from './rules/cross-validation';
export { checkItemDefinition } from './rules/items';
export { checkStageGraph } from './rules/stage-order';
