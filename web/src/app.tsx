/**
 * The application shell: session, routing, role-aware navigation and the site switcher.
 * Framework: Preact (4 kB, React's component model, no virtual-DOM-heavy runtime), chosen for
 * a fast first paint on ward workstations and a census that stays interactive with 500 rows.
 */
import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import { api } from './api.ts';
import { AppContext, type AppContextValue, type Site } from './context.ts';
import { Layout } from './components/Layout.tsx';
import { type Route, navigate, parseRoute } from './routes.ts';
import { canSee, visiblePages } from './roles.ts';
import { type Session, clearSession, loadSession, saveSession } from './session.ts';
import { SignIn } from './pages/SignIn.tsx';
import { Census } from './pages/Census.tsx';
import { PatientPage } from './pages/Patient.tsx';
import { Imports } from './pages/Imports.tsx';
import { TrialDesk } from './pages/Trial.tsx';
import { Analysis } from './pages/Analysis.tsx';

export const SITE_KEY = 'immunoguide.site';

export function App() {
  const [session, setSession] = useState<Session | null>(() => loadSession(Date.now()));
  const [route, setRoute] = useState<Route>(() => parseRoute(location.pathname));
  const [sites, setSites] = useState<Site[] | null>(null);
  const [site, setSiteState] = useState<string | null>(() => sessionStorage.getItem(SITE_KEY));
  const [ready, setReady] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);

  useEffect(() => {
    const update = () => setRoute(parseRoute(location.pathname));
    window.addEventListener('popstate', update);
    window.addEventListener('immunoguide:navigate', update);
    // In-app links: plain <a href="/..."> elements, handled without a page load.
    const onClick = (event: MouseEvent) => {
      if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
      const anchor = (event.target as Element | null)?.closest?.('a');
      const href = anchor?.getAttribute('href');
      if (!anchor || !href || anchor.target || anchor.hasAttribute('download')) return;
      if (!href.startsWith('/') || /^\/(api|fhir|auth|health)(\/|$)/.test(href)) return;
      event.preventDefault();
      navigate(href);
    };
    document.addEventListener('click', onClick);
    return () => {
      window.removeEventListener('popstate', update);
      window.removeEventListener('immunoguide:navigate', update);
      document.removeEventListener('click', onClick);
    };
  }, []);

  const signOut = useCallback((reason?: string) => {
    clearSession();
    api.setToken(null);
    setSession(null);
    setSites(null);
    setReady(false);
    setNotice(reason ?? null);
  }, []);

  // With a session: token into the client, the server's route table, the user's sites.
  useEffect(() => {
    if (!session) return;
    api.setToken(session.token);
    api.onUnauthorized = () => signOut('Your session has ended (expired or revoked). Please sign in again.');
    let live = true;
    void (async () => {
      const [, result] = await Promise.all([api.loadCapabilities(), api.get<{ sites: Site[] }>('/api/sites')]);
      if (!live) return;
      setSites(result.ok ? result.data.sites : session.user.sites.map((id) => ({ id, name: id })));
      setReady(true);
    })();
    const expiry = window.setTimeout(
      () => signOut('Your session expired. Please sign in again.'),
      Math.max(0, session.expiresAt - Date.now()),
    );
    return () => {
      live = false;
      window.clearTimeout(expiry);
    };
  }, [session, signOut]);

  const setSite = useCallback((value: string | null) => {
    if (value === null) sessionStorage.removeItem(SITE_KEY);
    else sessionStorage.setItem(SITE_KEY, value);
    setSiteState(value);
  }, []);

  // Move focus to the page heading after in-app navigation, so screen readers announce it.
  useEffect(() => {
    document.querySelector<HTMLElement>('main h1')?.focus({ preventScroll: false });
  }, [route]);

  const context = useMemo<AppContextValue | null>(() => {
    if (!session || !sites) return null;
    const validSite = site !== null && sites.some((s) => s.id === site) ? site : null;
    return { api, session, sites, site: validSite, setSite, signOut };
  }, [session, sites, site, setSite, signOut]);

  if (!session) {
    return (
      <SignIn
        notice={notice}
        onSignedIn={(next) => {
          saveSession(next);
          setNotice(null);
          setSession(next);
          if (parseRoute(location.pathname).name === 'signin') navigate('/', { replace: true });
        }}
      />
    );
  }
  if (!ready || !context) {
    return (
      <p class="state state-loading" role="status">
        Signing in…
      </p>
    );
  }

  const pages = visiblePages(session.user.roles);
  if (route.name === 'home' || route.name === 'signin') {
    const first = pages[0];
    if (first) queueMicrotask(() => navigate(`/${first}`, { replace: true }));
  }

  return (
    <AppContext.Provider value={context}>
      <Layout route={route}>{renderPage(route, session)}</Layout>
    </AppContext.Provider>
  );
}

function renderPage(route: Route, session: Session) {
  const roles = session.user.roles;
  const denied = (label: string) => (
    <section>
      <h1 tabIndex={-1}>{label}</h1>
      <p class="state state-error" role="alert">
        Your role ({roles.join(', ')}) does not give access to this page.
      </p>
    </section>
  );
  switch (route.name) {
    case 'census':
      return canSee(roles, 'census') ? <Census /> : denied('ICU census');
    case 'patient':
      return canSee(roles, 'census') ? <PatientPage patientId={route.patientId} /> : denied('Patient');
    case 'imports':
      return canSee(roles, 'imports') ? <Imports /> : denied('Imports');
    case 'trial':
      return canSee(roles, 'trial') ? <TrialDesk /> : denied('Trial desk');
    case 'analysis':
      return canSee(roles, 'analysis') ? <Analysis /> : denied('Analysis');
    case 'home':
    case 'signin':
      return visiblePages(roles).length === 0 ? denied('ImmunoGuide') : <p role="status">Opening…</p>;
    case 'not-found':
      return (
        <section>
          <h1 tabIndex={-1}>Page not found</h1>
          <p>
            There is no page at <code>{route.path}</code>. <a href="/">Go to the start page</a>.
          </p>
        </section>
      );
  }
}
