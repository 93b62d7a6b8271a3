/**
 * Authentication and site isolation over the whole route table: every route except the
 * documented public ones rejects missing and bad tokens; a clinician of one site cannot see,
 * or learn the existence of, another site's patients, and every attempt is audited.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { createAuthenticator } from '../../src/server/auth/authenticator.ts';
import { ROLES, can } from '../../src/server/auth/principal.ts';
import { WEB_PUBLIC_ROUTES } from '../../src/server/web.ts';
import { accessLogFor } from '../../src/server/access-audit.ts';
import { buildApp } from '../../src/server/app.ts';
import { insertMeasurements, upsertPatient, upsertSite } from '../../src/store/repository.ts';
import { type TestApp, badTokens, buildTestApp } from '../support/app.ts';
import { type TestDatabase, openTestDatabase, testBackends } from '../support/backends.ts';

/** The routes that may answer without a token, and why. Anything else public is a failure. */
const PUBLIC_ROUTES = new Set([
  'GET /health', // liveness for load balancers
  'HEAD /health',
  'POST /auth/token', // sign-in itself
  'GET /auth/jwks.json', // public keys are public
  'HEAD /auth/jwks.json',
  'GET /fhir/metadata', // FHIR CapabilityStatement
  'HEAD /fhir/metadata',
  // CDS Hooks: discovery is public by the spec; the service calls carry the EHR's own JWT,
  // verified by the CDS plugin (test/server/cds/security.test.ts), not an ImmunoGuide token.
  'GET /cds-services',
  'HEAD /cds-services',
  'OPTIONS /cds-services',
  'POST /cds-services/:id',
  'OPTIONS /cds-services/:id',
  'POST /cds-services/:id/feedback',
  'OPTIONS /cds-services/:id/feedback',
  ...WEB_PUBLIC_ROUTES, // the built browser app's pages and assets (no data)
]);
const isDocsRoute = (url: string): boolean => url.startsWith('/api/docs'); // OpenAPI document and its UI assets

/** A body each POST route accepts, so the request reaches the patient lookup rather than stopping at validation. */
function samplePayload(method: string, url: string): Record<string, unknown> | undefined {
  if (method !== 'POST') return undefined;
  if (url.endsWith('/dispense')) return { kitNumber: 'KIT-1' };
  if (url.endsWith('/unblind')) return { reason: 'a serious adverse event needs the arm' };
  if (url.endsWith('/withdraw')) return { kind: 'consent-withdrawn', reason: 'patient asked to stop' };
  if (url.endsWith('/deviations')) return { category: 'visit window', severity: 'minor', description: 'day 3 visit taken on day 4' };
  if (url.endsWith('/crf-changes')) return { form: 'baseline', field: 'weight', oldValue: 70, newValue: 72, reason: 'transcription error corrected' };
  if (url.endsWith('/screening')) return { outcome: 'screened' };
  return {};
}

function concrete(url: string, patientId = 'P-B'): string {
  return url
    .replace(':patientId', patientId)
    .replace(/:(\w+)/g, 'x')
    .replace('*', 'x');
}

for (const { backend, skip } of await testBackends()) {
  describe(`authentication and site isolation on ${backend}`, { skip }, () => {
    let t: TestDatabase;
    let ctx: TestApp;
    before(async () => {
      t = await openTestDatabase(backend);
      await upsertSite(t.db, { id: 'site-a', name: 'A' });
      await upsertSite(t.db, { id: 'site-b', name: 'B' });
      await upsertPatient(t.db, { id: 'P-A', siteId: 'site-a', birthDate: null, sex: null, deceasedAt: null });
      await upsertPatient(t.db, { id: 'P-B', siteId: 'site-b', birthDate: null, sex: null, deceasedAt: null });
      await insertMeasurements(t.db, [
        { patientId: 'P-B', concept: 'ferritin', value: 9000, unit: 'ng/mL', effectiveStart: '2026-01-01T00:00:00Z', source: 't', recordId: 'b1' },
      ]);
      ctx = await buildTestApp(t.db);
    });
    after(async () => {
      await ctx?.app.close();
      await t?.dispose();
    });

    test('only the documented routes are public', () => {
      const publicRoutes = ctx.app.routeTable.filter((r) => r.public && !isDocsRoute(r.url)).map((r) => `${r.method} ${r.url}`);
      assert.deepEqual(new Set(publicRoutes), PUBLIC_ROUTES);
      assert.ok(ctx.app.routeTable.some((r) => r.url === '/api/patients/:patientId'), 'the sweep sees the API routes');
    });

    test('every non-public route rejects a missing, expired, wrongly-signed and wrong-audience token', async () => {
      const tokens = await badTokens(t.db);
      const protectedRoutes = ctx.app.routeTable.filter((r) => !r.public);
      assert.ok(protectedRoutes.length >= 6);
      for (const route of protectedRoutes) {
        const url = concrete(route.url);
        const variants: Array<[string, Record<string, string>]> = [
          ['missing', {}],
          ...Object.entries(tokens).map(([name, token]): [string, Record<string, string>] => [name, { authorization: `Bearer ${token}` }]),
          ['unknown API key', { 'x-api-key': 'igk_AAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB' }],
        ];
        for (const [name, headers] of variants) {
          const response = await ctx.app.inject({ method: route.method as 'GET', url, headers, payload: route.method === 'POST' ? {} : undefined });
          assert.equal(response.statusCode, 401, `${route.method} ${route.url} with ${name} token: ${response.body}`);
          if (route.method !== 'HEAD') {
            assert.match(String(response.headers['content-type']), /problem\+json|fhir\+json/);
            assert.doesNotMatch(response.body, /9000|ferritin/, 'no data in the error');
          }
          assert.match(String(response.headers['www-authenticate']), /^Bearer/);
        }
      }
    });

    test('the error says why a token was refused', async () => {
      const tokens = await badTokens(t.db);
      const detail = async (token: string) =>
        (await ctx.app.inject({ method: 'GET', url: '/api/me', headers: { authorization: `Bearer ${token}` } })).json().detail;
      assert.match(await detail(tokens.expired!), /expired/);
      assert.match(await detail(tokens['wrong-audience']!), /audience/);
      assert.match(await detail(tokens['wrongly-signed']!), /signature/);
      assert.match(await detail(tokens['wrong-issuer']!), /issuer/);
      assert.match(await detail(tokens['tampered-claims']!), /signature/);
    });

    test('a clinician of site A gets 404 for every patient-scoped route of a site-B patient, and it is audited', async () => {
      const clinician = await ctx.bearer(['clinician'], ['site-a'], 'clinician-a');
      const scoped = ctx.app.routeTable.filter((r) => r.url.includes(':patientId') && r.method !== 'HEAD');
      assert.ok(scoped.length >= 2);
      for (const route of scoped) {
        // Routes a clinician may not use at all (randomise, dispense...) answer 403 whatever the patient;
        // for those, a site-A user holding the route's permission makes the same attempt.
        const allowed = route.permission === undefined || can({ kind: 'user', id: 'x', name: 'x', roles: ['clinician'], sites: [] }, route.permission);
        const role = allowed ? 'clinician' : ROLES.find((r) => can({ kind: 'user', id: 'x', name: 'x', roles: [r], sites: [] }, route.permission!))!;
        const headers = allowed ? clinician : await ctx.bearer([role], ['site-a'], 'clinician-a');
        const payload = samplePayload(route.method, route.url);
        const otherSite = await ctx.app.inject({ method: route.method as 'GET', url: concrete(route.url, 'P-B'), headers, ...(payload ? { payload } : {}) });
        const nonexistent = await ctx.app.inject({ method: route.method as 'GET', url: concrete(route.url, 'P-NOPE'), headers, ...(payload ? { payload } : {}) });
        assert.equal(otherSite.statusCode, 404, `${route.method} ${route.url}`);
        assert.equal(nonexistent.statusCode, 404);
        const strip = (body: string) => body.replaceAll('P-B', 'ID').replaceAll('P-NOPE', 'ID');
        assert.equal(strip(otherSite.body), strip(nonexistent.body), 'same answer as for a patient that does not exist');
        assert.doesNotMatch(otherSite.body, /9000|site-b/);
      }
      const log = await accessLogFor(t.db, 'P-B');
      assert.equal(log.length, scoped.length);
      for (const row of log) {
        assert.equal(row.actor, 'clinician-a');
        assert.equal(row.outcome, 'denied');
        assert.equal(row.status, 404);
      }
      // The same clinician sees their own site's patient, and that read is audited too.
      const own = await ctx.app.inject({ method: 'GET', url: '/api/patients/P-A', headers: clinician });
      assert.equal(own.statusCode, 200);
      assert.equal((await accessLogFor(t.db, 'P-A')).at(-1)?.outcome, 'allowed');
    });

    test('the patient list shows only the caller’s sites', async () => {
      const response = await ctx.app.inject({ method: 'GET', url: '/api/patients', headers: await ctx.bearer(['clinician'], ['site-a']) });
      assert.deepEqual(
        response.json().patients.map((p: { id: string }) => p.id),
        ['P-A'],
      );
    });

    test('roles are enforced: a statistician cannot read patient records', async () => {
      const response = await ctx.app.inject({ method: 'GET', url: '/api/patients/P-A', headers: await ctx.bearer(['statistician'], ['site-a']) });
      assert.equal(response.statusCode, 403);
    });

    test('the access log is append-only', async () => {
      await assert.rejects(t.db.query('UPDATE access_log SET actor = $1', ['someone-else']), /append-only/);
      await assert.rejects(t.db.query('DELETE FROM access_log'), /append-only/);
    });

    test('sign-in with username and password, and API keys for service clients', async () => {
      const admin = await ctx.bearer(['admin'], ['site-a', 'site-b'], 'admin-1');
      const created = await ctx.app.inject({
        method: 'POST',
        url: '/api/users',
        headers: admin,
        payload: { username: 'nurse.a', password: 'correct horse battery', roles: ['clinician'], sites: ['site-a'] },
      });
      assert.equal(created.statusCode, 201, created.body);
      const wrong = await ctx.app.inject({ method: 'POST', url: '/auth/token', payload: { username: 'nurse.a', password: 'nope' } });
      assert.equal(wrong.statusCode, 401);
      const unknown = await ctx.app.inject({ method: 'POST', url: '/auth/token', payload: { username: 'nobody', password: 'nope' } });
      assert.equal(unknown.json().detail, wrong.json().detail, 'unknown users and wrong passwords look the same');
      const login = await ctx.app.inject({ method: 'POST', url: '/auth/token', payload: { username: 'nurse.a', password: 'correct horse battery' } });
      assert.equal(login.statusCode, 200);
      const me = await ctx.app.inject({ method: 'GET', url: '/api/me', headers: { authorization: `Bearer ${login.json().access_token}` } });
      assert.deepEqual(me.json().sites, ['site-a']);

      const key = await ctx.app.inject({ method: 'POST', url: '/api/api-keys', headers: admin, payload: { name: 'ehr-bridge', roles: ['clinician'], sites: ['site-b'] } });
      assert.equal(key.statusCode, 201);
      const viaKey = await ctx.app.inject({ method: 'GET', url: '/api/patients/P-B', headers: { authorization: `ApiKey ${key.json().key}` } });
      assert.equal(viaKey.statusCode, 200);
      const viaHeader = await ctx.app.inject({ method: 'GET', url: '/api/patients/P-A', headers: { 'x-api-key': key.json().key } });
      assert.equal(viaHeader.statusCode, 404, 'API keys are site-isolated too');
      const nonAdmin = await ctx.app.inject({ method: 'POST', url: '/api/api-keys', headers: await ctx.bearer(['clinician'], ['site-a']), payload: { name: 'x', roles: ['admin'], sites: ['site-a'] } });
      assert.equal(nonAdmin.statusCode, 403);
    });

    test('a second instance on the same database verifies tokens the first one issued', async () => {
      const other = await buildTestApp(t.db);
      try {
        const response = await other.app.inject({ method: 'GET', url: '/api/me', headers: await ctx.bearer(['monitor'], ['site-a'], 'm1') });
        assert.equal(response.statusCode, 200);
      } finally {
        await other.app.close();
      }
    });
  });
}

describe('OpenID Connect issuer', () => {
  let server: http.Server;
  let issuer: string;
  let keys: Awaited<ReturnType<typeof generateKeyPair>>;
  before(async () => {
    keys = await generateKeyPair('RS256');
    const jwk = { ...(await exportJWK(keys.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    server = http.createServer((request, response) => {
      response.setHeader('content-type', 'application/json');
      if (request.url === '/.well-known/openid-configuration') response.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/jwks` }));
      else if (request.url === '/jwks') response.end(JSON.stringify({ keys: [jwk] }));
      else response.writeHead(404).end('{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  test('tokens of the configured issuer are accepted with roles and sites from claims; others are not', async () => {
    const t = await openTestDatabase('pglite');
    try {
      const authenticator = await createAuthenticator(t.db, {
        mode: 'oidc',
        issuer,
        audience: 'immunoguide-prod',
        jwksUrl: undefined,
        rolesClaim: 'immunoguide_roles',
        sitesClaim: 'immunoguide_sites',
        tokenTtlSeconds: 3600,
      });
      const app = await buildApp({ db: t.db, authenticator, logger: false, rateLimitPerMinute: false });
      const sign = (claims: Record<string, unknown>, audience = 'immunoguide-prod') =>
        new SignJWT(claims)
          .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
          .setIssuer(issuer)
          .setAudience(audience)
          .setSubject('dr.house')
          .setIssuedAt()
          .setExpirationTime('5m')
          .sign(keys.privateKey);
      const good = await sign({ immunoguide_roles: ['clinician'], immunoguide_sites: 'site-a site-b' });
      const me = await app.inject({ method: 'GET', url: '/api/me', headers: { authorization: `Bearer ${good}` } });
      assert.equal(me.statusCode, 200, me.body);
      assert.deepEqual(me.json().roles, ['clinician']);
      assert.deepEqual(me.json().sites, ['site-a', 'site-b']);
      const noRole = await sign({ immunoguide_sites: ['site-a'] });
      assert.equal((await app.inject({ method: 'GET', url: '/api/me', headers: { authorization: `Bearer ${noRole}` } })).statusCode, 401);
      const otherAudience = await sign({ immunoguide_roles: ['clinician'] }, 'someone-else');
      assert.equal((await app.inject({ method: 'GET', url: '/api/me', headers: { authorization: `Bearer ${otherAudience}` } })).statusCode, 401);
      const login = await app.inject({ method: 'POST', url: '/auth/token', payload: { username: 'a', password: 'b' } });
      assert.equal(login.statusCode, 400, 'no local sign-in under an external issuer');
      await app.close();
    } finally {
      await t.dispose();
    }
  });
});
