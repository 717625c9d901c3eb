import type { ServerWritableStream, ServerDuplexStream } from '@grpc/grpc-js';

type Writable<T> = ServerWritableStream<unknown, T> | ServerDuplexStream<unknown, T>;

/** Writes msg, waiting for 'drain' when the stream's buffer is full; false if the call ended. */
export async function write<T>(call: Writable<T>, msg: T, isOpen: () => boolean): Promise<boolean> {
  if (!isOpen()) return false;
  if (call.write(msg)) return true;
  await new Promise<void>((resolve) => {
    const done = () => {
      call.off('drain', done);
      call.off('close', done);
      resolve();
    };
    call.on('drain', done);
    call.on('close', done);
  });
  return isOpen();
}

/** Resolves true when promise settles, false when the call was cancelled first. */
export function unlessCancelled(promise: Promise<unknown>, cancelled: Promise<void>): Promise<boolean> {
  return Promise.race([promise.then(() => true), cancelled.then(() => false)]);
}

/** A promise that resolves when the call is cancelled or closed, and a flag for it. */
export function cancellation(call: { on(event: 'cancelled' | 'close', cb: () => void): unknown }): { promise: Promise<void>; isOpen: () => boolean } {
  let open = true;
  const promise = new Promise<void>((resolve) => {
    const stop = () => {
      open = false;
      resolve();
    };
    call.on('cancelled', stop);
    call.on('close', stop);
  });
  return { promise, isOpen: () => open };
}
