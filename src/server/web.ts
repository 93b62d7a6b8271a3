/**
 * Serves the browser app (web/, built by Vite into web/dist) from the same origin as the API,
 * so the app needs no CORS and its bearer token never leaves the origin.
 *
 * Public routes, by design: they hold the application shell and its scripts, never patient
 * data (the app fetches that from /api with the user's token). Instead of a catch-all `/*`
 * fallback, the app's own pages are listed: a catch-all would also answer unknown /api, /fhir
 * and /auth paths (and any prefix added later), which must keep their own 404 documents.
 * The list mirrors the routes of web/src/routes.ts; the end-to-end test reloads each of them.
 */
import fs from 'node:fs';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';

/** Where `npm run build:web` writes the app. */
export const WEB_DIST_DIR = path.resolve(import.meta.dirname, '../../web/dist');

/** Pages of the single-page app: each answers with index.html so deep links and reloads work. */
export const WEB_APP_PAGES = [
  '/',
  '/signin',
  '/census',
  // A wildcard, not :patientId: the shell is the same for every patient and holds no patient data.
  '/patients/*',
  '/imports',
  '/trial',
  '/analysis',
] as const;

/** Hashed build output (scripts, styles). */
export const WEB_ASSET_ROUTE = '/assets/*';

/** Every public route this plugin registers, as "METHOD /url" (for the route-table security sweep). */
export const WEB_PUBLIC_ROUTES: readonly string[] = [...WEB_APP_PAGES, WEB_ASSET_ROUTE].flatMap((url) => [`GET ${url}`, `HEAD ${url}`]);

/**
 * The shell may only load its own scripts and talk to its own origin. Styles allow inline
 * attributes because the chart library (Observable Plot) writes SVG style attributes.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "object-src 'none'",
].join('; ');

const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ImmunoGuide: web app not built</title></head>
<body><main><h1>The ImmunoGuide web app has not been built</h1>
<p>The API is running. Build the browser app with <code>npm run build:web</code> (<code>npm start</code> does this
for you), then reload this page.</p></main></body></html>
`;

export interface WebAppOptions {
  /** Directory of the built app; defaults to web/dist of this checkout. */
  distDir?: string;
}

export const webAppRoutes: FastifyPluginAsync<WebAppOptions> = async (app, options) => {
  const root = options.distDir ?? WEB_DIST_DIR;
  const built = fs.existsSync(path.join(root, 'index.html'));
  if (built) {
    // serve: false - this plugin declares its routes itself, so that they are marked public and
    // nothing outside the list is served.
    await app.register(fastifyStatic, { root, serve: false });
  } else {
    app.log.warn(`web app not built (no ${path.join(root, 'index.html')}): run \`npm run build:web\``);
  }

  const securityHeaders = (reply: FastifyReply): FastifyReply =>
    reply
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('x-frame-options', 'DENY');

  const routeOptions = { config: { public: true }, schema: { hide: true } } as const;

  for (const page of WEB_APP_PAGES) {
    app.get(page, routeOptions, async (_request, reply) => {
      securityHeaders(reply).header('content-security-policy', CONTENT_SECURITY_POLICY);
      if (!built) return reply.code(503).type('text/html; charset=utf-8').send(NOT_BUILT_PAGE);
      // The shell is tiny and names hashed assets: always revalidate it so a new build is picked up.
      return reply.sendFile('index.html', { cacheControl: false }).header('cache-control', 'no-cache');
    });
  }

  app.get(WEB_ASSET_ROUTE, routeOptions, async (request, reply) => {
    securityHeaders(reply);
    const file = (request.params as { '*': string })['*'];
    if (!built) return reply.callNotFound();
    // Asset names carry a content hash, so they never change: cache them for a year. `send`
    // refuses paths that climb out of the root.
    return reply.sendFile(path.posix.join('assets', file), { maxAge: 365 * 24 * 3600 * 1000, immutable: true });
  });
};
