import { sendUnaryData, ServiceDefinition, status, UntypedServiceImplementation } from '@grpc/grpc-js';

/**
 * Answers every method of a service as a peer without it does (a Fabric 2.3 peer and
 * gateway.Gateway): `12 UNIMPLEMENTED: unknown service <name>`, Go gRPC's wording.
 */
export function unimplementedService(definition: ServiceDefinition, name: string): UntypedServiceImplementation {
  const error = { code: status.UNIMPLEMENTED, details: `unknown service ${name}` };
  const impl: UntypedServiceImplementation = {};
  for (const [method, def] of Object.entries(definition)) {
    impl[method] = def.responseStream
      ? (call: { emit(event: 'error', e: unknown): void }) => call.emit('error', error)
      : (_call: unknown, cb: sendUnaryData<unknown>) => cb(error);
  }
  return impl;
}
