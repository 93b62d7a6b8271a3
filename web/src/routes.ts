/**
 * The app's pages and their URLs (history API). The server answers each of these paths with the
 * app shell (src/server/web.ts WEB_APP_PAGES lists the same paths, so reloads and deep links work).
 */
export type Route =
  | { name: 'home' }
  | { name: 'signin' }
  | { name: 'census' }
  | { name: 'patient'; patientId: string }
  | { name: 'imports' }
  | { name: 'trial' }
  | { name: 'analysis' }
  | { name: 'not-found'; path: string };

export function parseRoute(pathname: string): Route {
  const path = pathname.replace(/\/+$/, '') || '/';
  if (path === '/') return { name: 'home' };
  if (path === '/signin') return { name: 'signin' };
  if (path === '/census') return { name: 'census' };
  if (path === '/imports') return { name: 'imports' };
  if (path === '/trial') return { name: 'trial' };
  if (path === '/analysis') return { name: 'analysis' };
  const patient = /^\/patients\/([^/]+)$/.exec(path);
  if (patient) return { name: 'patient', patientId: decodeURIComponent(patient[1]!) };
  return { name: 'not-found', path };
}

export function patientPath(patientId: string): string {
  return `/patients/${encodeURIComponent(patientId)}`;
}

/** Navigate inside the app without a page load; listeners re-render. */
export function navigate(href: string, options: { replace?: boolean } = {}): void {
  if (options.replace) history.replaceState(null, '', href);
  else history.pushState(null, '', href);
  window.dispatchEvent(new Event('immunoguide:navigate'));
}

/** Sets (or removes, for null) one query parameter of the current URL, keeping history. */
export function setQueryParam(name: string, value: string | null): void {
  const url = new URL(location.href);
  if (value === null) url.searchParams.delete(name);
  else url.searchParams.set(name, value);
  navigate(url.pathname + url.search, { replace: true });
}
