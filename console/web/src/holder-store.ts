import { reactive } from 'vue';
import type { HolderKeyBackup } from '../../src/holder-key-backup';
import type { Holder } from '../../src/holder-signing';

/**
 * The holder keys of this browser, in IndexedDB, one per console user of an org. IndexedDB keeps the CryptoKey
 * object itself (structured clone), so the non-extractable key stays non-extractable; the encrypted backup is kept
 * beside it so that the holder can download it again.
 */
export interface StoredHolder extends Holder {
  id: string;
  backup: HolderKeyBackup;
}

const DB = 'trace-chain-holder-keys';
const STORE = 'holders';

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: 'id' });
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB is not available'));
  });
}

async function run<T>(mode: IDBTransactionMode, op: (s: IDBObjectStore) => IDBRequest): Promise<T> {
  const db = await open();
  try {
    return await new Promise<T>((resolve, reject) => {
      const req = op(db.transaction(STORE, mode).objectStore(STORE));
      req.onsuccess = () => resolve(req.result as T);
      req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
    });
  } finally {
    db.close();
  }
}

/** The signed-in user's holder key in this browser, once loaded. */
export const wallet = reactive<{ current?: StoredHolder; loaded: boolean }>({ loaded: false });

export const holderId = (org: string, username: string): string => `${org}/${username}`;

export async function loadHolder(id: string): Promise<StoredHolder | undefined> {
  wallet.current = await run<StoredHolder | undefined>('readonly', (s) => s.get(id));
  wallet.loaded = true;
  return wallet.current;
}

export async function saveHolder(holder: StoredHolder): Promise<void> {
  await run('readwrite', (s) => s.put(holder));
  wallet.current = holder;
}
