import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Api } from './api.ts';
import type { Session } from './session.ts';

export interface Site {
  id: string;
  name: string;
}

export interface AppContextValue {
  api: Api;
  session: Session;
  /** The user's sites, with names. */
  sites: Site[];
  /** The site chosen in the switcher; null = all of the user's sites. */
  site: string | null;
  setSite(site: string | null): void;
  signOut(reason?: string): void;
}

export const AppContext = createContext<AppContextValue | null>(null);

export function useApp(): AppContextValue {
  const value = useContext(AppContext);
  if (!value) throw new Error('useApp outside <AppContext.Provider>');
  return value;
}

export function siteName(sites: Site[], id: string): string {
  return sites.find((s) => s.id === id)?.name ?? id;
}
