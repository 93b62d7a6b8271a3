/**
 * CDS Hooks 2.0 (HL7 STU2, https://cds-hooks.hl7.org/2.0/) wire types: the request an EHR posts,
 * the cards we answer with, and the feedback it sends back. Field names follow the spec.
 */
import type { FhirResource } from 'fhir/r4.js';

export type HookName = 'patient-view' | 'order-select' | 'order-sign';

export interface FhirAuthorization {
  access_token: string;
  token_type: string;
  expires_in: number;
  scope: string;
  subject: string;
  patient?: string;
}

export interface CdsRequest {
  hook: string;
  hookInstance: string;
  fhirServer?: string;
  fhirAuthorization?: FhirAuthorization;
  context: {
    userId?: string;
    patientId: string;
    encounterId?: string;
    /** order-select: ids ("MedicationRequest/123") of the newly selected orders. */
    selections?: string[];
    /** order-select / order-sign: a Bundle of draft request resources. */
    draftOrders?: { resourceType: 'Bundle'; entry?: Array<{ resource?: FhirResource }> };
    [field: string]: unknown;
  };
  /** key -> resource, searchset Bundle, OperationOutcome, or null ("no data"). */
  prefetch?: Record<string, unknown>;
  extension?: Record<string, unknown>;
}

export interface CdsCoding {
  system: string;
  code: string;
  display?: string;
}

export type CdsIndicator = 'info' | 'warning' | 'critical';

export type CdsAction =
  | { type: 'create' | 'update'; description: string; resource: FhirResource }
  | { type: 'delete'; description: string; resourceId: string };

export interface CdsSuggestion {
  label: string;
  uuid: string;
  isRecommended?: boolean;
  actions: CdsAction[];
}

export interface CdsLink {
  label: string;
  url: string;
  type: 'absolute' | 'smart';
  appContext?: string;
}

export interface CdsCard {
  uuid: string;
  summary: string;
  detail?: string;
  indicator: CdsIndicator;
  source: { label: string; url?: string; topic?: CdsCoding };
  suggestions?: CdsSuggestion[];
  selectionBehavior?: 'at-most-one' | 'any';
  overrideReasons?: CdsCoding[];
  links?: CdsLink[];
}

export interface CdsResponse {
  cards: CdsCard[];
}

export interface CdsFeedbackItem {
  card: string;
  outcome: 'accepted' | 'overridden';
  acceptedSuggestions?: Array<{ id: string }>;
  overrideReason?: { reason?: CdsCoding; userComment?: string };
  outcomeTimestamp: string;
}

export interface CdsFeedbackRequest {
  feedback: CdsFeedbackItem[];
}

/** A service as listed by discovery. */
export interface CdsServiceDefinition {
  id: string;
  hook: HookName;
  title: string;
  description: string;
  prefetch: Record<string, string>;
  usageRequirements?: string;
}
