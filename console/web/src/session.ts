import { reactive } from 'vue';
import { api, ApiError, setCsrf } from './api';

export interface SessionInfo {
  user: { username: string; roles: string[] };
  org: string;
  csrf: string;
  pages: string[];
}

/** Who is signed in; undefined until known, null when nobody is. */
export const session = reactive<{ current: SessionInfo | null | undefined }>({ current: undefined });

export function signedIn(info: SessionInfo): void {
  setCsrf(info.csrf);
  session.current = info;
}

export async function loadSession(): Promise<SessionInfo | null> {
  if (session.current !== undefined) return session.current;
  try {
    signedIn(await api<SessionInfo>('GET', '/api/session'));
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 401) throw e;
    session.current = null;
  }
  return session.current ?? null;
}

export async function logout(): Promise<void> {
  await api('POST', '/api/logout').catch(() => undefined);
  session.current = null;
  setCsrf('');
}
