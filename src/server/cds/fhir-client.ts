/**
 * The few FHIR reads the CDS service makes itself, against the EHR's `fhirServer` with the
 * `fhirAuthorization` bearer token it was handed (CDS Hooks 2.0, "FHIR Resource Access").
 *
 * - Every query has a time limit; failures are values (never exceptions) so the card can say
 *   honestly what could not be retrieved.
 * - Search results follow `next` links for a few pages, but only on the FHIR server's own origin:
 *   the access token is never sent anywhere else.
 * - The token is transient: it is used for this request only and never logged or stored.
 */
import type { Bundle, FhirResource, OperationOutcome } from 'fhir/r4.js';

export type FetchLike = (input: string, init: { headers: Record<string, string>; signal: AbortSignal }) => Promise<Response>;

export interface FhirQueryTarget {
  /** Base URL of the FHIR server (no trailing slash needed). */
  baseUrl: string;
  /** Bearer access token, when the EHR gave one. */
  accessToken: string | undefined;
  timeoutMs: number;
  fetch: FetchLike;
  /** Search pages followed at most (first page included). */
  maxPages?: number;
}

export type FhirQueryResult =
  | { ok: true; resources: FhirResource[]; pages: number; truncated: boolean; issues: string[] }
  | { ok: false; reason: string };

const DEFAULT_MAX_PAGES = 4;

/** Reads a relative FHIR URL (a read "Patient/1" or a search "Observation?...") and returns its resources. */
export async function fhirQuery(target: FhirQueryTarget, relativeUrl: string): Promise<FhirQueryResult> {
  const base = new URL(target.baseUrl.endsWith('/') ? target.baseUrl : `${target.baseUrl}/`);
  let url: URL;
  try {
    url = new URL(relativeUrl.replace(/^\/+/, ''), base);
  } catch {
    return { ok: false, reason: `invalid query ${relativeUrl}` };
  }
  const what = relativeUrl.split('?')[0];
  const resources: FhirResource[] = [];
  const issues: string[] = [];
  const maxPages = target.maxPages ?? DEFAULT_MAX_PAGES;
  const deadline = AbortSignal.timeout(target.timeoutMs);
  for (let page = 1; ; page++) {
    const body = await getJson(target, url, deadline);
    if (!body.ok) return { ok: false, reason: `${what}: ${body.reason}` };
    const resource = body.value as FhirResource;
    if (resource.resourceType === 'OperationOutcome') {
      return { ok: false, reason: `${what}: the FHIR server answered with an OperationOutcome (${describeOutcome(resource)})` };
    }
    if (resource.resourceType !== 'Bundle') {
      resources.push(resource);
      return { ok: true, resources, pages: page, truncated: false, issues };
    }
    const bundle = resource as Bundle;
    for (const entry of bundle.entry ?? []) {
      if (!entry.resource) continue;
      if (entry.resource.resourceType === 'OperationOutcome') issues.push(describeOutcome(entry.resource));
      else resources.push(entry.resource);
    }
    const next = bundle.link?.find((l) => l.relation === 'next')?.url;
    if (next === undefined) return { ok: true, resources, pages: page, truncated: false, issues };
    let nextUrl: URL;
    try {
      nextUrl = new URL(next, base);
    } catch {
      return { ok: true, resources, pages: page, truncated: true, issues: [...issues, 'unparseable next link'] };
    }
    // The bearer token goes to the FHIR server only: a next link elsewhere is not followed.
    if (nextUrl.origin !== base.origin) {
      return { ok: true, resources, pages: page, truncated: true, issues: [...issues, `next link to another origin (${nextUrl.origin}) not followed`] };
    }
    if (page >= maxPages) return { ok: true, resources, pages: page, truncated: true, issues };
    url = nextUrl;
  }
}

async function getJson(
  target: FhirQueryTarget,
  url: URL,
  signal: AbortSignal,
): Promise<{ ok: true; value: { resourceType?: unknown } } | { ok: false; reason: string }> {
  const headers: Record<string, string> = { accept: 'application/fhir+json, application/json;q=0.9' };
  if (target.accessToken !== undefined) headers.authorization = `Bearer ${target.accessToken}`;
  let response: Response;
  try {
    response = await target.fetch(url.toString(), { headers, signal });
  } catch (error) {
    const name = (error as { name?: string }).name;
    if (name === 'TimeoutError' || name === 'AbortError') return { ok: false, reason: `no answer within ${target.timeoutMs} ms` };
    return { ok: false, reason: `FHIR server unreachable (${(error as Error).message})` };
  }
  let text: string;
  try {
    text = await response.text();
  } catch (error) {
    const name = (error as { name?: string }).name;
    if (name === 'TimeoutError' || name === 'AbortError') return { ok: false, reason: `no complete answer within ${target.timeoutMs} ms` };
    return { ok: false, reason: `reading the answer failed (${(error as Error).message})` };
  }
  if (!response.ok) {
    let detail = '';
    try {
      const parsed = JSON.parse(text) as FhirResource;
      if (parsed.resourceType === 'OperationOutcome') detail = `: ${describeOutcome(parsed)}`;
    } catch {
      // Not JSON: the status alone says enough.
    }
    return { ok: false, reason: `the FHIR server answered HTTP ${response.status}${detail}` };
  }
  try {
    const value = JSON.parse(text) as unknown;
    if (typeof value !== 'object' || value === null || typeof (value as { resourceType?: unknown }).resourceType !== 'string') {
      return { ok: false, reason: 'the FHIR server answered with something that is not a FHIR resource' };
    }
    return { ok: true, value: value as { resourceType: string } };
  } catch {
    return { ok: false, reason: 'the FHIR server answered with invalid JSON' };
  }
}

export function describeOutcome(outcome: OperationOutcome): string {
  const issues = (outcome.issue ?? []).map((i) => [i.severity, i.code, i.diagnostics ?? i.details?.text].filter(Boolean).join(' '));
  return issues.length > 0 ? issues.join('; ').slice(0, 300) : 'no details';
}
