import { Metadata, status } from '@grpc/grpc-js';
import { gateway, google } from '@hyperledger/fabric-protos';
import { Any } from 'google-protobuf/google/protobuf/any_pb';

export interface Detail {
  address: string;
  mspId: string;
  message: string;
}

export interface GrpcError {
  code: status;
  details: string;
  metadata?: Metadata;
}

/** A gRPC error as Fabric's gateway sends it: status, message and ErrorDetails in grpc-status-details-bin. */
export function grpcError(code: status, message: string, details: Detail[] = []): GrpcError {
  if (details.length === 0) return { code, details: message };
  const st = new google.rpc.Status();
  st.setCode(code);
  st.setMessage(message);
  st.setDetailsList(
    details.map((d) => {
      const ed = new gateway.ErrorDetail();
      ed.setAddress(d.address);
      ed.setMspId(d.mspId);
      ed.setMessage(d.message);
      const any = new Any();
      any.setTypeUrl('type.googleapis.com/gateway.ErrorDetail');
      any.setValue(ed.serializeBinary());
      return any;
    }),
  );
  const metadata = new Metadata();
  metadata.set('grpc-status-details-bin', Buffer.from(st.serializeBinary()));
  return { code, details: message, metadata };
}
