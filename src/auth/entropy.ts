import { randomFillSync } from "node:crypto";

/**
 * Bytes to hand out before asking the CSPRNG again. A call into OpenSSL's generator costs about
 * 15 µs of the event loop under load (cold caches beside argon2), whatever the size; a login
 * takes two or three small tokens. Node's own randomUUID batches its entropy the same way.
 */
const POOL_BYTES = 4096;

/**
 * crypto.randomBytes with the CSPRNG's output drawn in batches: every byte is handed out once,
 * as a copy (no caller shares memory with the pool or another caller), and a request larger
 * than the pool goes to the generator directly.
 */
export function pooledRandomBytes(): (size: number) => Buffer {
  const pool = Buffer.allocUnsafeSlow(POOL_BYTES);
  let offset = POOL_BYTES;
  return (size) => {
    if (!Number.isInteger(size) || size < 0) throw new RangeError(`randomBytes: size must be a non-negative integer (got ${size})`);
    if (size > POOL_BYTES) return randomFillSync(Buffer.allocUnsafe(size));
    if (offset + size > POOL_BYTES) {
      randomFillSync(pool);
      offset = 0;
    }
    const bytes = Buffer.from(pool.subarray(offset, offset + size));
    // Handed out bytes are not kept around for whoever reads the pool's memory later.
    pool.fill(0, offset, offset + size);
    offset += size;
    return bytes;
  };
}
