import { dirname, join } from 'path';

/**
 * fabric-contract-api checks each transaction argument against its declared JSON schema with ajv,
 * and on every call compiles that schema with all the contract's component schemas attached and
 * stringifies it (and the argument) for debug records dropped later: about a fifth of the shim's
 * CPU per transaction. Every transaction here declares one argument of schema exactly
 * `{ type: 'string' }`, which a string argument always satisfies, so for such arguments the
 * argument is read as before and the always-true check is skipped. Anything else (another schema,
 * a wrong argument count) goes through the shim's own code, with its errors.
 */
interface Parameter {
  schema?: Record<string, unknown>;
}
interface DataMarshallProto {
  handleParameters(fn: { parameters?: Parameter[] }, parameters: Buffer[], loggerPrefix?: string): unknown[];
  fromWireBuffer(data: Buffer, schema: object, loggerPrefix?: string): { value: unknown };
}
interface DataMarshallInstance extends DataMarshallProto {
  components: unknown;
}

const PATCHED = Symbol.for('trace.plainStringParameters');

const plainString = (p: Parameter) => p.schema !== undefined && p.schema.type === 'string' && Object.keys(p.schema).length === 1;

/** The DataMarshall class the shim's contract support uses (wherever the installer put the shim). */
function shimDataMarshall(): { prototype: DataMarshallProto } {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(join(dirname(require.resolve('fabric-shim')), 'lib', 'contract-spi', 'datamarshall.js'));
}

export function skipAlwaysTrueStringChecks(marshall = shimDataMarshall()): void {
  const proto = marshall.prototype as DataMarshallProto & { [PATCHED]?: boolean };
  const { handleParameters, fromWireBuffer } = proto;
  // A shim of another shape keeps its own behaviour.
  if (proto[PATCHED] || typeof handleParameters !== 'function' || typeof fromWireBuffer !== 'function') return;
  proto.handleParameters = function (this: DataMarshallInstance, fn, parameters, loggerPrefix) {
    const expected = fn.parameters;
    if (!expected || expected.length !== parameters.length || !expected.every(plainString)) return handleParameters.call(this, fn, parameters, loggerPrefix);
    // The same reading of each argument the shim does, with the schema it passes.
    return parameters.map((supplied, i) => this.fromWireBuffer(supplied, { properties: { prop: expected[i].schema }, components: { schemas: this.components } }, loggerPrefix).value);
  };
  proto[PATCHED] = true;
}
