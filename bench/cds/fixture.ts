/**
 * The request of bench/cds: a patient-view call with prefetch for a synthetic MALS patient
 * (ferritin, mHLA-DR, safety labs, 24 h of hourly MAP, blood gas, bilirubin, GCS: 37
 * Observations, about 17 KiB), built by the tests' FHIR stand-in from the discovery's prefetch
 * templates, with sample times relative to `now`; and EHR tokens (ES256, one jti each).
 * Shared by the load test (patient-view.ts) and the per-stage measurement (stages.ts).
 */
import { randomUUID } from 'node:crypto';
import type { FhirResource } from 'fhir/r4.js';
import { type CryptoKey, type KeyObject, SignJWT } from 'jose';
import type { CdsServiceDefinition } from '../../src/server/cds/types.ts';
import { AT_MS, FhirStandIn, LOINC, PATIENT_ID, hookRequest, hoursBefore, malsPatient, observation } from '../../test/server/cds/support.ts';

export const BENCH_ISSUER = 'https://ehr.bench.example/';
export const BENCH_PUBLIC_URL = 'https://immunoguide.bench.example';
export const BENCH_SERVICE_ID = 'immunoguide-patient-view';
export const BENCH_KID = 'bench-1';

/** The JSON body of the bench's patient-view call, and how many Observations it carries. */
export function patientViewBody(service: Pick<CdsServiceDefinition, 'prefetch'>, now = Date.now()): { body: string; observations: number } {
  // The synthetic patient's sample times are relative to the tests' fixed clock (AT): move them to now.
  const shift = now - AT_MS;
  const resources: FhirResource[] = malsPatient().map((r) => {
    const o = r as { effectiveDateTime?: string };
    return o.effectiveDateTime ? ({ ...r, effectiveDateTime: new Date(Date.parse(o.effectiveDateTime) + shift).toISOString() } as FhirResource) : r;
  });
  for (let h = 1; h <= 24; h++) resources.push(observation(`map-${h}`, PATIENT_ID, { system: LOINC, code: '8478-0' }, 62 + (h % 7), 'mm[Hg]', hoursBefore(h, now)));
  for (const [id, code, value, unit, hours] of [
    ['pao2', '2703-7', 78, 'mm[Hg]', 3],
    ['fio2', '3150-0', 0.45, '1', 3],
    ['bili', '1975-2', 2.2, 'mg/dL', 6],
    ['gcs', '9269-2', 13, '{score}', 2],
    ['plt2', '777-3', 140, '10*3/uL', 20],
    ['crea2', '2160-0', 1.6, 'mg/dL', 20],
  ] as const) {
    resources.push(observation(id, PATIENT_ID, { system: LOINC, code }, value, unit, hoursBefore(hours, now)));
  }
  const request = hookRequest('patient-view');
  request.prefetch = new FhirStandIn(resources).prefetchFor(service as CdsServiceDefinition, request.context);
  return { body: JSON.stringify(request), observations: resources.filter((r) => r.resourceType === 'Observation').length };
}

/** `count` EHR tokens for the bench service, each with its own jti, valid for an hour from `nowSeconds`. */
export async function signBenchTokens(privateKey: CryptoKey | KeyObject, count: number, nowSeconds = Math.floor(Date.now() / 1000)): Promise<string[]> {
  const tokens: string[] = [];
  for (let i = 0; i < count; i++) {
    tokens.push(
      await new SignJWT({ tenant: 'bench' })
        .setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid: BENCH_KID })
        .setIssuer(BENCH_ISSUER)
        .setAudience(`${BENCH_PUBLIC_URL}/cds-services/${BENCH_SERVICE_ID}`)
        .setIssuedAt(nowSeconds)
        .setExpirationTime(nowSeconds + 3600)
        .setJti(randomUUID())
        .sign(privateKey),
    );
  }
  return tokens;
}
