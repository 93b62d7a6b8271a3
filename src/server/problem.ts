/**
 * Errors leave the server as RFC 9457 problem documents (application/problem+json), or as FHIR
 * OperationOutcome resources under /fhir. Never a stack trace, never a bare 500 page.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  [extension: string]: unknown;
}

export class HttpProblem extends Error {
  readonly status: number;
  readonly title: string;
  readonly detail: string | undefined;
  readonly extensions: Record<string, unknown>;
  readonly headers: Record<string, string>;
  constructor(
    status: number,
    title: string,
    detail?: string,
    extensions: Record<string, unknown> = {},
    headers: Record<string, string> = {},
  ) {
    super(detail ?? title);
    this.status = status;
    this.title = title;
    this.detail = detail;
    this.extensions = extensions;
    this.headers = headers;
  }
}

/** The 404 every patient-scoped route gives for a patient that does not exist OR belongs to another site. */
export function patientNotFound(patientId: string): HttpProblem {
  return new HttpProblem(404, 'Not Found', `Patient ${patientId} was not found.`);
}

export function sendProblem(reply: FastifyReply, problem: Problem): FastifyReply {
  return reply.code(problem.status).type('application/problem+json').send(problem);
}

/** FHIR issue type codes for HTTP statuses (http://hl7.org/fhir/valueset-issue-type.html). */
function fhirIssueCode(status: number): string {
  if (status === 401) return 'login';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not-found';
  if (status === 413) return 'too-costly';
  if (status === 429) return 'throttled';
  if (status >= 500) return 'exception';
  return 'invalid';
}

export function operationOutcome(status: number, diagnostics: string): Record<string, unknown> {
  return {
    resourceType: 'OperationOutcome',
    issue: [{ severity: status >= 500 ? 'fatal' : 'error', code: fhirIssueCode(status), diagnostics }],
  };
}

function isFhirRequest(request: FastifyRequest): boolean {
  return request.url === '/fhir' || request.url.startsWith('/fhir/') || request.url.startsWith('/fhir?');
}

export function errorHandler(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): void {
  let status: number;
  let title: string;
  let detail: string;
  let extensions: Record<string, unknown> = {};
  if (error instanceof HttpProblem) {
    status = error.status;
    title = error.title;
    detail = error.detail ?? error.title;
    extensions = error.extensions;
    for (const [name, value] of Object.entries(error.headers)) void reply.header(name, value);
  } else {
    const fastifyError = error as FastifyError;
    status = fastifyError.statusCode ?? 500;
    if (status < 400 || status > 599) status = 500;
    title = status >= 500 ? 'Internal Server Error' : titleFor(status);
    // Client errors (validation, body too large...) explain themselves; server errors do not leak internals.
    detail = status >= 500 ? `The server could not complete the request (request id ${request.id}).` : error.message;
    if (fastifyError.validation) extensions = { errors: fastifyError.validation };
  }
  if (status >= 500) request.log.error({ err: error }, 'request failed');
  if (isFhirRequest(request)) {
    void reply.code(status).type('application/fhir+json').send(operationOutcome(status, detail));
    return;
  }
  void sendProblem(reply, { type: 'about:blank', title, status, detail, instance: request.url.split('?')[0], ...extensions });
}

function titleFor(status: number): string {
  const titles: Record<number, string> = {
    400: 'Bad Request',
    401: 'Unauthorized',
    403: 'Forbidden',
    404: 'Not Found',
    405: 'Method Not Allowed',
    406: 'Not Acceptable',
    409: 'Conflict',
    413: 'Payload Too Large',
    415: 'Unsupported Media Type',
    422: 'Unprocessable Content',
    429: 'Too Many Requests',
  };
  return titles[status] ?? 'Request Error';
}
