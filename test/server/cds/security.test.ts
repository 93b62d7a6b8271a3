/**
 * CDS Hooks 2.0 "Trusting CDS Clients": the EHR's JWT is verified on every service and feedback
 * call - issuer allow-list, signature with the issuer's keys (configured JWK Set, or an allowed
 * jku), audience = the URL of the endpoint called, exp, iat, jti - and a jti is accepted once,
 * also across instances sharing the database.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SignJWT, generateSecret } from 'jose';
import { claimJwtId, listCdsCalls, purgeExpiredJwtIds } from '../../../src/store/cds.ts';
import { type TestDatabase, openTestDatabase } from '../../support/backends.ts';
import { AT_MS, type CdsTestApp, EHR_ISSUER, PUBLIC_URL, SERVICE, TestEhr, buildCdsTestApp, callService, hookRequest } from './support.ts';

const NOW = Math.floor(AT_MS / 1000);

describe('CDS Hooks JWT security', () => {
  let t: TestDatabase;
  let ehr: TestEhr;
  let ctx: CdsTestApp;
  before(async () => {
    t = await openTestDatabase('pglite');
    ehr = await TestEhr.start();
    ctx = await buildCdsTestApp(t.db, ehr);
  });
  after(async () => {
    await ctx?.app.close();
    await ehr?.close();
    await t?.dispose();
  });

  const call = (headers: Record<string, string>, url = `/cds-services/${SERVICE.patientView}`, payload: unknown = hookRequest('patient-view')) =>
    ctx.app.inject({ method: 'POST', url, headers, payload: payload as object });

  async function refused(headers: Record<string, string>, reason: RegExp, url?: string): Promise<void> {
    const response = await call(headers, url);
    assert.equal(response.statusCode, 401, response.body);
    assert.match(String(response.headers['content-type']), /application\/problem\+json/);
    assert.match(String(response.headers['www-authenticate']), /^Bearer realm="immunoguide-cds", error="invalid_token"/);
    assert.match(response.json().detail, reason);
    assert.equal(response.json().cards, undefined);
  }

  test('a valid token for this service is accepted', async () => {
    const response = await call(await ehr.authFor(SERVICE.patientView));
    assert.equal(response.statusCode, 200, response.body);
  });

  test('missing token: 401', async () => {
    await refused({}, /authentication required/);
    await refused({ authorization: 'Basic dXNlcjpwYXNz' }, /Bearer <JWT>/);
  });

  test('expired token: 401', async () => {
    await refused(await ehr.authFor(SERVICE.patientView, { iatSeconds: NOW - 400, expSeconds: NOW - 100 }), /expired/);
  });

  test('token for another audience: 401 (aud must be the URL of the service called)', async () => {
    await refused(await ehr.authFor(SERVICE.orderSign), /another audience/);
    await refused({ authorization: `Bearer ${await ehr.token({ aud: 'https://other-cds.example.org/cds-services/immunoguide-patient-view' })}` }, /another audience/);
  });

  test('an audience array containing the service URL is accepted', async () => {
    const token = await ehr.token({ aud: ['https://other.example.org', `${PUBLIC_URL}/cds-services/${SERVICE.patientView}`] });
    assert.equal((await call({ authorization: `Bearer ${token}` })).statusCode, 200);
  });

  test('unknown issuer: 401', async () => {
    await refused(await ehr.authFor(SERVICE.patientView, { iss: 'https://rogue-ehr.example.org/' }), /unknown issuer/);
  });

  test('replayed jti: the second use is refused', async () => {
    const headers = await ehr.authFor(SERVICE.patientView, { jti: 'jti-replay-1' });
    assert.equal((await call(headers)).statusCode, 200);
    await refused(headers, /already used \(replayed jti\)/);
    // Another token reusing the id is a replay too.
    await refused(await ehr.authFor(SERVICE.patientView, { jti: 'jti-replay-1' }), /replayed/);
  });

  test('a replay to another instance on the same database is refused too', async () => {
    const second = await buildCdsTestApp(t.db, ehr);
    try {
      const headers = await ehr.authFor(SERVICE.patientView, { jti: 'jti-two-instances' });
      assert.equal((await call(headers)).statusCode, 200);
      const replay = await second.app.inject({ method: 'POST', url: `/cds-services/${SERVICE.patientView}`, headers, payload: hookRequest('patient-view') });
      assert.equal(replay.statusCode, 401);
      assert.match(replay.json().detail, /replayed/);
    } finally {
      await second.app.close();
    }
  });

  test('missing required claims: 401', async () => {
    for (const claim of ['jti', 'iat', 'exp', 'aud'] as const) {
      const response = await call(await ehr.authFor(SERVICE.patientView, { omit: [claim] }));
      assert.equal(response.statusCode, 401, `${claim}: ${response.body}`);
    }
  });

  test('a token issued too long ago is refused even before it expires', async () => {
    await refused(await ehr.authFor(SERVICE.patientView, { iatSeconds: NOW - 3600, expSeconds: NOW + 300 }), /too old|expired/);
  });

  test('bad signatures and forbidden algorithms: 401', async () => {
    await refused(await ehr.authFor(SERVICE.patientView, { foreignKey: true }), /signature/);
    await refused(await ehr.authFor(SERVICE.patientView, { kid: 'unknown-kid' }), /unknown key/);
    const payload = { iss: EHR_ISSUER, aud: `${PUBLIC_URL}/cds-services/${SERVICE.patientView}`, iat: NOW, exp: NOW + 300, jti: 'alg-none' };
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT', kid: ehr.kid })).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.`;
    await refused({ authorization: `Bearer ${none}` }, /algorithm none is not accepted/);
    const hmac = await new SignJWT({ ...payload, jti: 'alg-hs256' }).setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: ehr.kid }).sign(await generateSecret('HS256'));
    await refused({ authorization: `Bearer ${hmac}` }, /algorithm HS256 is not accepted/);
    await refused({ authorization: 'Bearer not.a.jwt' }, /malformed/);
  });

  test('the feedback endpoint requires a token too; its audience is the feedback or the service URL', async () => {
    const url = `/cds-services/${SERVICE.patientView}/feedback`;
    const payload = { feedback: [{ card: 'f6b95768-b1c8-40dc-8385-bf3504b82ffb', outcome: 'overridden', outcomeTimestamp: '2026-03-01T12:00:00Z' }] };
    const post = (headers: Record<string, string>) => ctx.app.inject({ method: 'POST', url, headers, payload });
    assert.equal((await post({})).statusCode, 401);
    assert.equal((await post(await ehr.authFor(`${SERVICE.patientView}/feedback`))).statusCode, 200);
    assert.equal((await post(await ehr.authFor(SERVICE.patientView))).statusCode, 200);
    assert.equal((await post(await ehr.authFor(SERVICE.orderSign))).statusCode, 401);
  });

  test('discovery is public: no token needed', async () => {
    assert.equal((await ctx.app.inject({ method: 'GET', url: '/cds-services' })).statusCode, 200);
  });

  describe('keys from the jku header', () => {
    test('an issuer without a configured JWK Set is accepted only through a jku on an allowed host', async () => {
      const t2 = await openTestDatabase('pglite');
      const jkuOnly = await buildCdsTestApp(t2.db, ehr, { settings: { trustedIssuers: new Map([[EHR_ISSUER, null]]), jkuAllowedHosts: [ehr.host] } });
      try {
        const ok = await jkuOnly.app.inject({
          method: 'POST',
          url: `/cds-services/${SERVICE.patientView}`,
          headers: await ehr.authFor(SERVICE.patientView, { jku: `http://${ehr.host}/other/jwks.json` }),
          payload: hookRequest('patient-view'),
        });
        assert.equal(ok.statusCode, 200, ok.body);
        const noJku = await jkuOnly.app.inject({ method: 'POST', url: `/cds-services/${SERVICE.patientView}`, headers: await ehr.authFor(SERVICE.patientView), payload: hookRequest('patient-view') });
        assert.equal(noJku.statusCode, 401);
        assert.match(noJku.json().detail, /no JWK Set is configured/);
        const elsewhere = await jkuOnly.app.inject({
          method: 'POST',
          url: `/cds-services/${SERVICE.patientView}`,
          headers: await ehr.authFor(SERVICE.patientView, { jku: 'https://keys.attacker.example/jwks.json' }),
          payload: hookRequest('patient-view'),
        });
        assert.equal(elsewhere.statusCode, 401);
        assert.match(elsewhere.json().detail, /jku keys\.attacker\.example is not on the allowed list/);
      } finally {
        await jkuOnly.app.close();
        await t2.dispose();
      }
    });

    test('a jku on a host that is not allowed is ignored: the configured JWK Set decides, the jku is never fetched', async () => {
      const before = ehr.jwksRequests.filter((r) => r === '/other/jwks.json').length;
      const response = await call(await ehr.authFor(SERVICE.patientView, { jku: `http://${ehr.host}/other/jwks.json` }));
      assert.equal(response.statusCode, 200, response.body);
      assert.equal(ehr.jwksRequests.filter((r) => r === '/other/jwks.json').length, before);
    });
  });

  test('without a public URL no audience can match: every call is refused', async () => {
    const t2 = await openTestDatabase('pglite');
    const unconfigured = await buildCdsTestApp(t2.db, ehr, { settings: { publicUrl: undefined } });
    try {
      const response = await unconfigured.app.inject({ method: 'POST', url: `/cds-services/${SERVICE.patientView}`, headers: await ehr.authFor(SERVICE.patientView), payload: hookRequest('patient-view') });
      assert.equal(response.statusCode, 401);
      assert.match(response.json().detail, /IMMUNOGUIDE_PUBLIC_URL/);
    } finally {
      await unconfigured.app.close();
      await t2.dispose();
    }
  });

  test('CDS_ALLOW_UNAUTHENTICATED=true (development) accepts calls without a token and records them without issuer', async () => {
    const t2 = await openTestDatabase('pglite');
    const open = await buildCdsTestApp(t2.db, ehr, { settings: { allowUnauthenticated: true, fhirAllowedHosts: [] } });
    try {
      const response = await open.app.inject({
        method: 'POST',
        url: `/cds-services/${SERVICE.patientView}`,
        payload: hookRequest('patient-view', { fhirServer: 'https://fhir.example.org/r4' }),
      });
      assert.equal(response.statusCode, 200, response.body);
      // Unauthenticated and no allow-list: the caller cannot make us contact a host of its choosing.
      assert.match(String(response.json().cards[0].detail), /fhirServer host fhir\.example\.org is not on the allowed list/);
      const [recorded] = await listCdsCalls(t2.db, 'syn-1');
      assert.equal(recorded?.issuer, null);
      // A token that is present is still verified, and used when valid.
      const withToken = await callService(open.app, ehr, SERVICE.patientView, hookRequest('patient-view'));
      assert.equal(withToken.status, 200);
      assert.equal((await listCdsCalls(t2.db, 'syn-1')).at(-1)?.issuer, EHR_ISSUER);
    } finally {
      await open.app.close();
      await t2.dispose();
    }
  });

  test('seen jti rows are kept until the token expires, then purged', async () => {
    const expires = new Date(AT_MS + 60_000);
    assert.equal(await claimJwtId(t.db, 'iss-x', 'jti-purge', expires), true);
    assert.equal(await claimJwtId(t.db, 'iss-x', 'jti-purge', expires), false);
    assert.equal(await claimJwtId(t.db, 'iss-y', 'jti-purge', expires), true, 'ids are per issuer');
    assert.equal(await purgeExpiredJwtIds(t.db, new Date(AT_MS)), 0);
    assert.ok((await purgeExpiredJwtIds(t.db, new Date(AT_MS + 120_000))) >= 2);
    assert.equal(await claimJwtId(t.db, 'iss-x', 'jti-purge', expires), true);
  });

  test('the route-level rate limit applies to the CDS routes', async () => {
    const t2 = await openTestDatabase('pglite');
    const limited = await buildCdsTestApp(t2.db, ehr, { rateLimitPerMinute: 1000, settings: { rateLimitPerMinute: 2 } });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) statuses.push((await limited.app.inject({ method: 'GET', url: '/cds-services' })).statusCode);
      assert.deepEqual(statuses, [200, 200, 429]);
    } finally {
      await limited.app.close();
      await t2.dispose();
    }
  });
});
