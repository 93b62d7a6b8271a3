/** The CDS Hooks configuration read from the environment: safe defaults, clear refusals. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../../../src/config.ts';
import { DEFAULT_CDS_SETTINGS, hostAllowed, loadCdsSettings } from '../../../src/server/cds/settings.ts';

test('defaults: no trusted issuer, authentication required, CORS open, 6000 requests/min', () => {
  const settings = loadCdsSettings({});
  assert.deepEqual(settings, { ...DEFAULT_CDS_SETTINGS, trustedIssuers: new Map() });
  assert.equal(settings.allowUnauthenticated, false);
  assert.equal(settings.trustedIssuers.size, 0);
});

test('a full configuration', () => {
  const settings = loadCdsSettings({
    IMMUNOGUIDE_PUBLIC_URL: 'https://immunoguide.hospital.example/',
    CDS_TRUSTED_ISSUERS: JSON.stringify({ 'https://ehr.hospital.example': 'https://ehr.hospital.example/jwks.json', 'https://sandbox.example': null }),
    CDS_JKU_ALLOWED_HOSTS: 'sandbox.example, keys.ehr.example:8443',
    CDS_ALLOW_UNAUTHENTICATED: 'false',
    CDS_FHIR_ALLOWED_HOSTS: 'fhir.hospital.example',
    CDS_FHIR_TIMEOUT_MS: '1500',
    CDS_CORS_ORIGINS: 'https://ehr.hospital.example https://sandbox.example',
    CDS_SMART_LAUNCH_URL: 'https://immunoguide.hospital.example/launch',
    CDS_RATE_LIMIT_PER_MINUTE: '12000',
    CDS_JWT_MAX_AGE_SECONDS: '120',
  });
  assert.equal(settings.publicUrl, 'https://immunoguide.hospital.example', 'trailing slash removed');
  assert.equal(settings.trustedIssuers.get('https://ehr.hospital.example'), 'https://ehr.hospital.example/jwks.json');
  assert.equal(settings.trustedIssuers.get('https://sandbox.example'), null);
  assert.deepEqual(settings.jkuAllowedHosts, ['sandbox.example', 'keys.ehr.example:8443']);
  assert.deepEqual(settings.fhirAllowedHosts, ['fhir.hospital.example']);
  assert.equal(settings.fhirTimeoutMs, 1500);
  assert.deepEqual(settings.corsOrigins, ['https://ehr.hospital.example', 'https://sandbox.example']);
  assert.equal(settings.smartLaunchUrl, 'https://immunoguide.hospital.example/launch');
  assert.equal(settings.rateLimitPerMinute, 12000);
  assert.equal(settings.jwtMaxAgeSeconds, 120);
});

test('refusals name the variable and the problem', () => {
  const cases: Array<[NodeJS.ProcessEnv, RegExp]> = [
    [{ CDS_TRUSTED_ISSUERS: '{"https://ehr.example": "https://ehr.example/jwks"}' }, /needs IMMUNOGUIDE_PUBLIC_URL/],
    [{ IMMUNOGUIDE_PUBLIC_URL: 'https://x.example', CDS_TRUSTED_ISSUERS: 'not json' }, /CDS_TRUSTED_ISSUERS must be a JSON object/],
    [{ IMMUNOGUIDE_PUBLIC_URL: 'https://x.example', CDS_TRUSTED_ISSUERS: '["a"]' }, /JSON object/],
    [{ IMMUNOGUIDE_PUBLIC_URL: 'https://x.example', CDS_TRUSTED_ISSUERS: '{"https://ehr.example": "http://ehr.example/jwks"}' }, /must be an https URL/],
    [{ IMMUNOGUIDE_PUBLIC_URL: 'https://x.example', CDS_TRUSTED_ISSUERS: '{"https://ehr.example": 42}' }, /JWKS URL or null/],
    [{ IMMUNOGUIDE_PUBLIC_URL: 'ftp://x.example' }, /IMMUNOGUIDE_PUBLIC_URL must be an http\(s\) URL/],
    [{ IMMUNOGUIDE_PUBLIC_URL: 'https://x.example/?a=1' }, /query or fragment/],
    [{ CDS_ALLOW_UNAUTHENTICATED: 'yes' }, /CDS_ALLOW_UNAUTHENTICATED must be true or false/],
    [{ CDS_FHIR_TIMEOUT_MS: '10' }, /CDS_FHIR_TIMEOUT_MS must be an integer from 100 to 30000/],
    [{ CDS_CORS_ORIGINS: 'https://ehr.example/path' }, /bare origins/],
  ];
  for (const [env, message] of cases) assert.throws(() => loadCdsSettings(env), (error: unknown) => error instanceof ConfigError && message.test(error.message), JSON.stringify(env));
});

test('host lists match a host on any port, or a host:port exactly', () => {
  assert.equal(hostAllowed(new URL('https://fhir.example:8443/r4'), ['fhir.example']), true);
  assert.equal(hostAllowed(new URL('https://fhir.example:8443/r4'), ['fhir.example:8443']), true);
  assert.equal(hostAllowed(new URL('https://fhir.example:9443/r4'), ['fhir.example:8443']), false);
  assert.equal(hostAllowed(new URL('https://fhir.example.evil.org/r4'), ['fhir.example']), false);
});
