/**
 * The signed-in session: token, expiry and who the user is. Kept in sessionStorage, so it ends
 * with the browser tab (a shared ward workstation must not stay signed in for the next person)
 * and is never sent anywhere but in the Authorization header of API calls.
 */
export interface SessionUser {
  id: string;
  name: string;
  roles: string[];
  sites: string[];
}

export interface Session {
  token: string;
  /** Epoch milliseconds. */
  expiresAt: number;
  user: SessionUser;
}

const KEY = 'immunoguide.session';

export function loadSession(nowMs: number): Session | null {
  try {
    const raw = sessionStorage.getItem(KEY);
    if (!raw) return null;
    const session = JSON.parse(raw) as Session;
    if (typeof session.token !== 'string' || typeof session.expiresAt !== 'number' || session.expiresAt <= nowMs) {
      sessionStorage.removeItem(KEY);
      return null;
    }
    return session;
  } catch {
    return null;
  }
}

export function saveSession(session: Session): void {
  sessionStorage.setItem(KEY, JSON.stringify(session));
}

export function clearSession(): void {
  sessionStorage.removeItem(KEY);
}
