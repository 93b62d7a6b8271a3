/** JSON schemas shared by API routes; they validate, serialise and document (OpenAPI) at once. */

export const problemSchema = {
  $id: 'Problem',
  type: 'object',
  description: 'RFC 9457 problem document',
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    instance: { type: 'string' },
  },
  additionalProperties: true,
} as const;

export const patientSchema = {
  $id: 'Patient',
  type: 'object',
  required: ['id', 'siteId', 'birthDate', 'sex', 'deceasedAt'],
  properties: {
    id: { type: 'string' },
    siteId: { type: 'string' },
    birthDate: { type: ['string', 'null'], format: 'date' },
    sex: { type: ['string', 'null'], enum: ['female', 'male', 'other', 'unknown', null] },
    deceasedAt: { type: ['string', 'null'], format: 'date-time' },
  },
  additionalProperties: false,
} as const;

export const measurementSchema = {
  $id: 'Measurement',
  type: 'object',
  required: ['id', 'patientId', 'concept', 'value', 'unit', 'effectiveStart', 'source', 'recordId'],
  properties: {
    id: { type: 'integer' },
    patientId: { type: 'string' },
    concept: { type: 'string' },
    value: { type: 'number' },
    unit: { type: 'string', description: 'canonical UCUM unit of the concept' },
    effectiveStart: { type: 'string', format: 'date-time' },
    effectiveEnd: { type: ['string', 'null'], format: 'date-time' },
    source: { type: 'string' },
    recordId: { type: 'string' },
    originalValue: { type: ['string', 'null'] },
    originalUnit: { type: ['string', 'null'] },
  },
  additionalProperties: false,
} as const;

export const errorResponses = {
  401: { $ref: 'Problem#' },
  403: { $ref: 'Problem#' },
  404: { $ref: 'Problem#' },
} as const;
