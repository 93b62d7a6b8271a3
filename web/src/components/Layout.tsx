/** Header with role-aware navigation, the site switcher and the user; the page in <main>. */
import type { ComponentChildren } from 'preact';
import { useApp } from '../context.ts';
import { PAGE_LABELS, visiblePages } from '../roles.ts';
import type { Route } from '../routes.ts';
import { TIME_ZONE } from '../format.ts';

export function Layout({ route, children }: { route: Route; children: ComponentChildren }) {
  const { session, sites, site, setSite, signOut } = useApp();
  const pages = visiblePages(session.user.roles);
  const active = route.name === 'patient' ? 'census' : route.name;
  return (
    <>
      <a class="skip-link" href="#main" onClick={(e) => { e.preventDefault(); document.getElementById('main')?.focus(); }}>
        Skip to main content
      </a>
      <header class="app-header">
        <a class="brand" href="/">
          <span class="brand-mark" aria-hidden="true">+</span> ImmunoGuide
        </a>
        <nav aria-label="Main">
          <ul>
            {pages.map((page) => (
              <li>
                <a href={`/${page}`} aria-current={active === page ? 'page' : undefined}>
                  {PAGE_LABELS[page]}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div class="header-tools">
          {sites.length > 1 ? (
            <label class="site-switcher">
              <span>Site</span>
              <select
                value={site ?? ''}
                onChange={(e) => setSite((e.currentTarget as HTMLSelectElement).value || null)}
              >
                <option value="">All my sites ({sites.length})</option>
                {sites.map((s) => (
                  <option value={s.id}>{s.name}</option>
                ))}
              </select>
            </label>
          ) : (
            <span class="site-single">Site: {sites[0]?.name ?? 'none'}</span>
          )}
          <span class="user" title={`Roles: ${session.user.roles.join(', ')}`}>
            {session.user.name} <span class="user-roles">({session.user.roles.join(', ')})</span>
          </span>
          <button type="button" class="button-quiet" onClick={() => signOut()}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
      <footer class="app-footer">
        <p>
          Times are shown in {TIME_ZONE}. ImmunoGuide supports clinical decisions; it does not replace clinical judgement.
        </p>
      </footer>
    </>
  );
}
