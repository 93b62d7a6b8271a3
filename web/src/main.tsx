import { render } from 'preact';
import { api } from './api.ts';
import { App, SITE_KEY } from './app.tsx';
import { parseRoute } from './routes.ts';
import { loadSession } from './session.ts';
import './styles.css';

// The census is the heaviest answer and the usual landing page: ask for it while the app boots.
const session = loadSession(Date.now());
if (session && parseRoute(location.pathname).name === 'census') {
  api.setToken(session.token);
  api.prefetch('/api/census', { site: sessionStorage.getItem(SITE_KEY), at: new URLSearchParams(location.search).get('at') });
}

render(<App />, document.getElementById('app')!);
