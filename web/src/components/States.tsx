/** Loading, empty, error and "not available on this server" states, worded for the ward. */
import type { ComponentChildren } from 'preact';
import type { ApiFailure } from '../api.ts';

export function Loading({ what }: { what: string }) {
  return (
    <p class="state state-loading" role="status" aria-live="polite">
      Loading {what}…
    </p>
  );
}

/** A feature whose server endpoint does not exist (yet): say so, show nothing invented. */
/** Heading level of a state block: 2 under a page title, deeper inside sections. */
type Level = 2 | 3 | 4;

function Heading({ level, children }: { level: Level; children: ComponentChildren }) {
  return level === 2 ? <h2>{children}</h2> : level === 3 ? <h3>{children}</h3> : <h4>{children}</h4>;
}

export function NotAvailable({ feature, endpoints, children, level = 2 }: { feature: string; endpoints: string[]; children?: ComponentChildren; level?: Level }) {
  return (
    <section class="state state-unavailable" aria-label={`${feature}: not available`}>
      <Heading level={level}>
        <span aria-hidden="true">⊘ </span>
        {feature}: not available on this server
      </Heading>
      <p>
        This server does not offer {endpoints.length === 1 ? 'the endpoint' : 'the endpoints'}{' '}
        {endpoints.map((e, i) => (
          <>
            {i > 0 ? ', ' : ''}
            <code>{e}</code>
          </>
        ))}{' '}
        yet, so nothing is shown here rather than a guess.
      </p>
      {children}
    </section>
  );
}

export function Failure({ error, what, level = 2 }: { error: ApiFailure; what: string; level?: Level }) {
  if (error.kind === 'unavailable') return <NotAvailable feature={what} endpoints={[error.endpoint]} level={level} />;
  const heading =
    error.kind === 'forbidden'
      ? `Your role does not allow ${what}`
      : error.kind === 'not-found'
        ? `${what}: not found`
        : error.kind === 'network'
          ? `${what}: server unreachable`
          : `${what}: could not be loaded`;
  return (
    <section class="state state-error" role="alert">
      <Heading level={level}>
        <span aria-hidden="true">⚠ </span>
        {heading}
      </Heading>
      <p>{error.message}</p>
    </section>
  );
}
