/**
 * JSON Schemas of CDS Hooks 2.0 responses, written from the specification text (HL7 CDS Hooks
 * STU2 2.0.1, "CDS Service Response", "Card Attributes", "Suggestion", "Action", "Link",
 * "Reasons for rejecting a card", "Discovery") and its FHIR logical model invariants cds-resp-1..7.
 * Independent of the implementation: the service's code never imports this file.
 *
 * Two levels:
 * - SPEC: what the specification requires (a card's uuid is optional there).
 * - IMMUNOGUIDE: the spec plus our own rule that every card and suggestion has a uuid (feedback
 *   needs them).
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ErrorObject } from 'ajv';

const UUID = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
/** "JSON elements SHALL NOT be empty": strings have content. */
const text = { type: 'string', minLength: 1 };
const absoluteUrl = { type: 'string', pattern: '^https?://[^\\s]+$' };

const coding = {
  type: 'object',
  required: ['code', 'system'],
  properties: { code: text, system: text, display: text },
};

const action = {
  type: 'object',
  required: ['type', 'description'],
  properties: {
    type: { enum: ['create', 'update', 'delete'] },
    // cds-resp-5: every action has a description.
    description: text,
    resource: { type: 'object', required: ['resourceType'], properties: { resourceType: text } },
    resourceId: text,
  },
  allOf: [
    // "When the type attribute is create, the resource attribute SHALL contain a new FHIR resource"; update: the whole resource.
    { if: { properties: { type: { enum: ['create', 'update'] } } }, then: { required: ['resource'] } },
    // Delete: resourceId (a resource id in `resource` is deprecated but still allowed).
    { if: { properties: { type: { const: 'delete' } } }, then: { anyOf: [{ required: ['resourceId'] }, { required: ['resource'] }] } },
  ],
};

const suggestion = {
  type: 'object',
  required: ['label'],
  properties: {
    label: text,
    uuid: { type: 'string', pattern: UUID },
    isRecommended: { type: 'boolean' },
    actions: { type: 'array', minItems: 1, items: action },
    actionSelectionBehavior: { enum: ['all', 'any', 'at-most-one'] },
  },
};

const link = {
  type: 'object',
  required: ['label', 'url', 'type'],
  properties: {
    label: text,
    url: absoluteUrl,
    type: { enum: ['absolute', 'smart'] },
    appContext: text,
    autolaunchable: { type: 'boolean' },
  },
  // cds-resp-3: appContext only for SMART links.
  if: { properties: { type: { const: 'absolute' } } },
  then: { not: { required: ['appContext'] } },
};

export const SPEC_CARD_SCHEMA = {
  type: 'object',
  required: ['summary', 'indicator', 'source'],
  properties: {
    uuid: { type: 'string', pattern: UUID },
    // "One-sentence, <140-character summary".
    summary: { type: 'string', minLength: 1, maxLength: 139 },
    detail: text,
    indicator: { enum: ['info', 'warning', 'critical'] },
    source: {
      type: 'object',
      required: ['label'],
      properties: { label: text, url: absoluteUrl, icon: absoluteUrl, topic: coding },
    },
    suggestions: { type: 'array', minItems: 1, items: suggestion },
    selectionBehavior: { enum: ['at-most-one', 'any'] },
    // cds-resp-4: the service MUST populate a display for each override reason.
    overrideReasons: { type: 'array', minItems: 1, items: { ...coding, required: ['code', 'system', 'display'] } },
    links: { type: 'array', minItems: 1, items: link },
  },
  // cds-resp-6: suggestions need selectionBehavior.
  dependentRequired: { suggestions: ['selectionBehavior'] },
  // cds-resp-1: with at-most-one, at most one suggestion is recommended.
  if: { required: ['selectionBehavior', 'suggestions'], properties: { selectionBehavior: { const: 'at-most-one' } } },
  then: { properties: { suggestions: { not: { contains: { required: ['isRecommended'], properties: { isRecommended: { const: true } } }, minContains: 2 } } } },
};

export const SPEC_RESPONSE_SCHEMA = {
  type: 'object',
  required: ['cards'],
  properties: {
    cards: { type: 'array', items: SPEC_CARD_SCHEMA },
    systemActions: { type: 'array', minItems: 1, items: action },
  },
};

/** Ours: the spec, and a uuid on every card and every suggestion. */
export const IMMUNOGUIDE_RESPONSE_SCHEMA = {
  allOf: [
    SPEC_RESPONSE_SCHEMA,
    {
      properties: {
        cards: {
          items: {
            required: ['uuid'],
            properties: { suggestions: { items: { required: ['uuid'] } } },
          },
        },
      },
    },
  ],
};

export const SPEC_DISCOVERY_SCHEMA = {
  type: 'object',
  required: ['services'],
  properties: {
    services: {
      type: 'array',
      items: {
        type: 'object',
        required: ['hook', 'description', 'id'],
        properties: {
          hook: text,
          title: text,
          description: text,
          id: text,
          prefetch: { type: 'object', minProperties: 1, additionalProperties: text },
          usageRequirements: text,
        },
      },
    },
  },
};

// strictRequired and strictTypes off: the conditional sub-schemas (if/then) name properties defined next to them.
const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false, strictTypes: false });
const validators = {
  spec: ajv.compile(SPEC_RESPONSE_SCHEMA),
  immunoguide: ajv.compile(IMMUNOGUIDE_RESPONSE_SCHEMA),
  discovery: ajv.compile(SPEC_DISCOVERY_SCHEMA),
};

export function schemaErrors(kind: keyof typeof validators, value: unknown): string[] {
  const validate = validators[kind];
  if (validate(value)) return [];
  return (validate.errors ?? []).map((e: ErrorObject) => `${e.instancePath || '(root)'} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
}
