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
  constructor(status: number, title: string, detail?: string, extensions: Record<string, unknown> = {}) {
    super(detail ?? title);
    this.status = status;
    this.title = title;
    this.detail = detail;
    this.extensions = extensions;
  }
}

export function sendProblem(reply: FastifyReply, problem: Problem): FastifyReply {
  return reply.code(problem.status).type('application/problem+json').send(problem);
}

export function errorHandler(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): void {
  if (error instanceof HttpProblem) {
    void sendProblem(reply, {
      type: 'about:blank',
      title: error.title,
      status: error.status,
      ...(error.detail !== undefined ? { detail: error.detail } : {}),
      instance: request.url,
      ...error.extensions,
    });
    return;
  }
  const fastifyError = error as FastifyError;
  const status = fastifyError.statusCode ?? 500;
  if (status >= 500) request.log.error({ err: error }, 'request failed');
  void sendProblem(reply, {
    type: 'about:blank',
    title: status >= 500 ? 'Internal Server Error' : titleFor(status),
    status,
    // Client errors (validation, body too large...) explain themselves; server errors do not leak internals.
    detail: status >= 500 ? `The server could not complete the request (request id ${request.id}).` : error.message,
    instance: request.url,
    ...(fastifyError.validation ? { errors: fastifyError.validation } : {}),
  });
}

function titleFor(status: number): string {
  const titles: Record<number, string> = {
    400: 'Bad Request',
    401: 'Unauthorized',
    403: 'Forbidden',
    404: 'Not Found',
    405: 'Method Not Allowed',
    409: 'Conflict',
    413: 'Payload Too Large',
    415: 'Unsupported Media Type',
    422: 'Unprocessable Content',
    429: 'Too Many Requests',
  };
  return titles[status] ?? 'Request Error';
}
