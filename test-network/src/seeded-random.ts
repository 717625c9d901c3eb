/** A small deterministic PRNG (mulberry32) for randomised tests: the same seed, the same choices. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Runs a randomised test body with a seed taken from the environment variable `envName` (to replay a
 * failure) or a fresh one; a failure's message starts with how to replay it.
 */
export async function withSeed<T>(envName: string, body: (random: () => number, seed: number) => Promise<T>): Promise<T> {
  const seed = Number(process.env[envName] ?? Math.floor(Math.random() * 2 ** 31));
  try {
    return await body(seededRandom(seed), seed);
  } catch (e) {
    if (e instanceof Error) e.message = `[replay with ${envName}=${seed}] ${e.message}`;
    throw e;
  }
}
