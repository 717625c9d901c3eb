import { closeSync, existsSync, fdatasync, fdatasyncSync, fstatSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';

/**
 * Append-only block file: each record is a 4-byte big-endian length and the bytes of a
 * common.Block. A record is synced to disk before append() returns; a torn record left by a
 * crash is cut off when the file is opened.
 */
export class BlockFile {
  private readonly fd: number;
  private readonly offsets: number[] = [];
  private readonly lengths: number[] = [];
  private size = 0;
  private readonly cache = new Map<number, Buffer>();
  private static readonly CACHE_BLOCKS = 512;

  constructor(readonly path: string) {
    this.fd = openSync(path, existsSync(path) ? 'r+' : 'w+');
    this.scan();
  }

  get height(): number {
    return this.offsets.length;
  }

  private scan(): void {
    const total = fstatSync(this.fd).size;
    const lenBuf = Buffer.alloc(4);
    let pos = 0;
    while (pos + 4 <= total) {
      readSync(this.fd, lenBuf, 0, 4, pos);
      const len = lenBuf.readUInt32BE(0);
      if (pos + 4 + len > total) break;
      this.offsets.push(pos + 4);
      this.lengths.push(len);
      pos += 4 + len;
    }
    if (pos !== total) ftruncateSync(this.fd, pos);
    this.size = pos;
  }

  append(block: Uint8Array): void {
    this.write(block);
    fdatasyncSync(this.fd);
    this.record(block);
  }

  /** Like append, with the sync done in libuv's thread pool. */
  async appendAsync(block: Uint8Array): Promise<void> {
    this.write(block);
    await new Promise<void>((resolve, reject) => fdatasync(this.fd, (err) => (err ? reject(err) : resolve())));
    this.record(block);
  }

  private write(block: Uint8Array): void {
    const rec = Buffer.allocUnsafe(4 + block.length);
    rec.writeUInt32BE(block.length, 0);
    rec.set(block, 4);
    let written = 0;
    while (written < rec.length) written += writeSync(this.fd, rec, written, rec.length - written, this.size + written);
  }

  private record(block: Uint8Array): void {
    this.offsets.push(this.size + 4);
    this.lengths.push(block.length);
    this.size += 4 + block.length;
    this.remember(this.offsets.length - 1, Buffer.from(block));
  }

  read(n: number): Buffer {
    const hit = this.cache.get(n);
    if (hit) return hit;
    if (n < 0 || n >= this.offsets.length) throw new RangeError(`block ${n} not found`);
    const buf = Buffer.allocUnsafe(this.lengths[n]);
    readSync(this.fd, buf, 0, buf.length, this.offsets[n]);
    this.remember(n, buf);
    return buf;
  }

  private remember(n: number, buf: Buffer): void {
    this.cache.set(n, buf);
    if (this.cache.size > BlockFile.CACHE_BLOCKS) this.cache.delete(this.cache.keys().next().value as number);
  }

  close(): void {
    closeSync(this.fd);
  }
}
