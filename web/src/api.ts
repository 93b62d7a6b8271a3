/**
 * The only door to the server: the HTTP API with the user's bearer token. Every call answers a
 * result value (never throws), so each page can say precisely what went wrong, and tell "this
 * server has no such endpoint yet" apart from "this patient was not found".
 *
 * Which endpoints exist is read from the server's own OpenAPI document (/api/docs/json), so a
 * page whose endpoint is missing shows a "not available" state instead of guessing or faking.
 */

export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  [extension: string]: unknown;
}

export type ApiFailure =
  /** The server has no route for this request (an older server, or a feature not yet built). */
  | { kind: 'unavailable'; endpoint: string; message: string }
  | { kind: 'unauthorized'; message: string }
  | { kind: 'forbidden'; message: string }
  | { kind: 'not-found'; message: string }
  /** The request was understood and refused (400, 409, 413, 422). */
  | { kind: 'refused'; status: number; message: string; problem: Problem | null }
  | { kind: 'rate-limited'; message: string }
  | { kind: 'server'; status: number; message: string }
  | { kind: 'network'; message: string };

export type ApiResult<T> = { ok: true; data: T; status: number } | { ok: false; error: ApiFailure };

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';

/** "GET /api/patients/{patientId}" as the OpenAPI document spells it. */
export type EndpointKey = `${Method} /${string}`;

type Query = Record<string, string | number | boolean | undefined | null>;

export function withQuery(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

/** The OpenAPI template of a concrete path, e.g. /api/patients/SYN-1/assessment -> /api/patients/{patientId}/assessment. */
function matchesTemplate(template: string, path: string): boolean {
  const t = template.split('/');
  const p = path.split('?')[0]!.split('/');
  if (t.length !== p.length) return false;
  return t.every((segment, i) => (segment.startsWith('{') && segment.endsWith('}') ? p[i] !== '' : segment === p[i]));
}

export class Api {
  private token: string | null = null;
  private endpoints: Set<string> | null = null;
  /** Called when the server rejects the token (expired, revoked): the app returns to sign-in. */
  onUnauthorized: (message: string) => void = () => {};

  setToken(token: string | null): void {
    this.token = token;
  }

  /** Reads the route table from the OpenAPI document. Without it every endpoint is assumed present. */
  async loadCapabilities(): Promise<void> {
    const result = await this.request<{ paths?: Record<string, Record<string, unknown>> }>('GET', '/api/docs/json', undefined, { auth: false });
    if (!result.ok || !result.data.paths) {
      this.endpoints = null;
      return;
    }
    const endpoints = new Set<string>();
    for (const [path, operations] of Object.entries(result.data.paths)) {
      for (const method of Object.keys(operations)) endpoints.add(`${method.toUpperCase()} ${path}`);
    }
    this.endpoints = endpoints;
  }

  /** Whether the server offers an endpoint ("GET /api/census"); true when unknown. */
  has(endpoint: EndpointKey): boolean {
    return this.endpoints === null || this.endpoints.has(endpoint);
  }

  /** The subset of endpoints the server is missing, for "not available" messages. */
  missing(...endpoints: EndpointKey[]): EndpointKey[] {
    return endpoints.filter((e) => !this.has(e));
  }

  get<T>(path: string, query?: Query): Promise<ApiResult<T>> {
    const url = withQuery(path, query);
    const early = this.prefetched.get(url);
    if (early) {
      this.prefetched.delete(url);
      return early as Promise<ApiResult<T>>;
    }
    return this.request<T>('GET', url);
  }

  /** A non-JSON document (e.g. the HTML report), with the same error handling as JSON calls. */
  async getText(path: string): Promise<ApiResult<string>> {
    let response: Response;
    try {
      response = await fetch(path, { headers: this.token ? { authorization: `Bearer ${this.token}` } : {} });
    } catch {
      return { ok: false, error: { kind: 'network', message: 'The server could not be reached.' } };
    }
    const text = await response.text();
    if (response.ok) return { ok: true, data: text, status: response.status };
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = null;
    }
    return this.interpret<string>('GET', path, response.status, body);
  }

  private prefetched = new Map<string, Promise<ApiResult<unknown>>>();

  /**
   * Starts a GET before the page that needs it is rendered (e.g. the census while the app boots);
   * the page's own get() of the same URL then takes this answer instead of asking again.
   */
  prefetch(path: string, query?: Query): void {
    const url = withQuery(path, query);
    if (!this.prefetched.has(url)) this.prefetched.set(url, this.request('GET', url));
  }

  post<T>(path: string, body?: unknown): Promise<ApiResult<T>> {
    return this.request<T>('POST', path, body);
  }

  /** Raw upload (a file as the request body), with upload progress (fetch has none). */
  upload<T>(path: string, file: Blob, contentType: string, onProgress: (loaded: number, total: number) => void): Promise<ApiResult<T>> {
    return new Promise((resolve) => {
      const xhr = new XMLHttpRequest();
      xhr.open('POST', path);
      if (this.token) xhr.setRequestHeader('authorization', `Bearer ${this.token}`);
      xhr.setRequestHeader('content-type', contentType || 'application/octet-stream');
      xhr.upload.onprogress = (event) => onProgress(event.loaded, event.lengthComputable ? event.total : file.size);
      xhr.onerror = () => resolve({ ok: false, error: { kind: 'network', message: 'The upload could not reach the server.' } });
      xhr.onload = () => {
        let body: unknown;
        try {
          body = xhr.responseText ? JSON.parse(xhr.responseText) : null;
        } catch {
          body = null;
        }
        resolve(this.interpret<T>('POST', path, xhr.status, body));
      };
      xhr.send(file);
    });
  }

  async request<T>(method: Method, path: string, body?: unknown, options: { auth?: boolean } = {}): Promise<ApiResult<T>> {
    const headers: Record<string, string> = { accept: 'application/json, application/problem+json' };
    if (options.auth !== false && this.token) headers.authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch {
      return { ok: false, error: { kind: 'network', message: 'The server could not be reached. Check the connection and try again.' } };
    }
    let parsed: unknown = null;
    const text = await response.text();
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = null;
      }
    }
    const result = this.interpret<T>(method, path, response.status, parsed);
    if (!result.ok && result.error.kind === 'unauthorized' && options.auth !== false) this.onUnauthorized(result.error.message);
    return result;
  }

  private interpret<T>(method: Method, path: string, status: number, body: unknown): ApiResult<T> {
    if (status >= 200 && status < 300) return { ok: true, data: body as T, status };
    const problem = body && typeof body === 'object' ? (body as Problem) : null;
    const message = problem?.detail ?? problem?.title ?? `The server answered ${status}.`;
    const endpoint = `${method} ${path.split('?')[0]}`;
    if (status === 401) return { ok: false, error: { kind: 'unauthorized', message } };
    if (status === 403) return { ok: false, error: { kind: 'forbidden', message } };
    if (status === 404) {
      // The server's generic 404 ("No route for ...") means the endpoint itself is missing.
      const noRoute = typeof problem?.detail === 'string' && problem.detail.startsWith('No route for');
      const known = this.endpoints !== null && [...this.endpoints].some((e) => {
        const [m, template] = e.split(' ');
        return m === method && template !== undefined && matchesTemplate(template, path);
      });
      if (noRoute || (this.endpoints !== null && !known)) {
        return { ok: false, error: { kind: 'unavailable', endpoint, message: `This server does not offer ${endpoint} yet.` } };
      }
      return { ok: false, error: { kind: 'not-found', message } };
    }
    if (status === 429) return { ok: false, error: { kind: 'rate-limited', message: 'Too many requests: wait a moment and try again.' } };
    if (status >= 500) return { ok: false, error: { kind: 'server', status, message } };
    return { ok: false, error: { kind: 'refused', status, message, problem } };
  }
}

export const api = new Api();

/** The answer for an endpoint the server does not offer, without asking it. */
export function unavailable<T>(endpoint: EndpointKey): Promise<ApiResult<T>> {
  return Promise.resolve({ ok: false, error: { kind: 'unavailable', endpoint, message: `This server does not offer ${endpoint} yet.` } });
}
