/**
 * The evaluation time of a page: "now" by default, or a past instant for a retrospective
 * review (kept in the URL as ?at=, so a link reproduces the view). A past time is announced
 * in a banner on every page that uses it: nobody should mistake a review for the present.
 */
import { useState } from 'preact/hooks';
import { setQueryParam } from '../routes.ts';
import { formatDateTime } from '../format.ts';

function toLocalInput(iso: string): string {
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function AsOfControl({ at }: { at: string | null }) {
  const [draft, setDraft] = useState(at ? toLocalInput(at) : '');
  const apply = (event: Event) => {
    event.preventDefault();
    if (!draft) return;
    const ms = new Date(draft).getTime();
    if (!Number.isNaN(ms)) setQueryParam('at', new Date(ms).toISOString());
  };
  return (
    <form class="asof" onSubmit={apply} aria-label="Evaluation time">
      <label>
        Evaluate as of
        <input type="datetime-local" value={draft} onInput={(e) => setDraft(e.currentTarget.value)} />
      </label>
      <button type="submit" class="button-quiet" disabled={!draft}>
        Apply
      </button>
      {at ? (
        <button
          type="button"
          class="button-quiet"
          onClick={() => {
            setDraft('');
            setQueryParam('at', null);
          }}
        >
          Back to now
        </button>
      ) : null}
    </form>
  );
}

export function AsOfBanner({ at, evaluatedAt }: { at: string | null; evaluatedAt: string | null }) {
  if (!at) {
    return evaluatedAt ? <p class="asof-now">Evaluated now ({formatDateTime(evaluatedAt)}).</p> : null;
  }
  return (
    <p class="banner banner-retro" role="note">
      <strong>Retrospective view.</strong> Everything on this page is evaluated as of {formatDateTime(evaluatedAt ?? at)}, not
      the current time. Data recorded after that instant is ignored.
    </p>
  );
}
