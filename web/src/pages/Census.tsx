/**
 * ICU census: one row per patient of the chosen site(s), from GET /api/census. Immune class in
 * colour and words, the age of the evidence, today's SOFA with its 7-day trend, Sepsis-3,
 * eligibility, therapy, warnings and data gaps. Sort by any column, filter by class, search.
 * By default only the patients in the ICU now (the server's `current`: alive, with recent data);
 * one checkbox brings back the discharged and deceased, marked in words.
 * Without /api/census the page lists the patients and says the assessment is not available.
 */
import { useMemo, useState } from 'preact/hooks';
import { memo } from 'preact/compat';
import type { ApiResult } from '../api.ts';
import { useApp, siteName } from '../context.ts';
import { useApiCall, useQueryParam } from '../hooks.ts';
import { ClassBadge, type ImmuneClass, classLabel } from '../components/ClassBadge.tsx';
import { Sparkline } from '../components/Sparkline.tsx';
import { LazyDetails } from '../components/LazyDetails.tsx';
import { Failure, Loading, NotAvailable } from '../components/States.tsx';
import { AsOfBanner, AsOfControl } from '../components/AsOf.tsx';
import { ageYears, formatAgeHours, formatShortDateTime, plural } from '../format.ts';
import { patientPath } from '../routes.ts';
import type { CensusResponse, CensusRow, Patient } from '../types.ts';

const CLASS_ORDER: ImmuneClass[] = ['MALS', 'immunoparalysis', 'indeterminate', 'unclassified'];

type SortKey = 'patient' | 'class' | 'evidence' | 'sofa' | 'sepsis3' | 'eligibility' | 'warnings' | 'gaps';
interface Sort {
  key: SortKey;
  descending: boolean;
}

const ELIGIBILITY_TEXT: Record<string, string> = { eligible: 'Eligible', 'not-eligible': 'Not eligible', incomplete: 'Incomplete' };

/** The value a column sorts by; null (unknown) always sorts last, whatever the direction. */
function sortValue(row: CensusRow, key: SortKey): number | string | null {
  switch (key) {
    case 'patient':
      return row.patientId;
    case 'class':
      return rank(row.immuneClass);
    case 'evidence':
      return row.evidenceAgeHours;
    case 'sofa':
      return row.sofaToday;
    case 'sepsis3':
      return row.sepsis3 === null ? null : row.sepsis3 ? 0 : 1;
    case 'eligibility':
      return row.eligibility === null ? null : ['eligible', 'incomplete', 'not-eligible'].indexOf(row.eligibility);
    case 'warnings':
      return severityScore(row);
    case 'gaps':
      return row.dataGaps.length;
  }
}

function compareRows(a: CensusRow, b: CensusRow, sort: Sort): number {
  const x = sortValue(a, sort.key);
  const y = sortValue(b, sort.key);
  if (x === null || y === null) return x === y ? 0 : x === null ? 1 : -1;
  const order = typeof x === 'string' || typeof y === 'string' ? String(x).localeCompare(String(y)) : x - y;
  return sort.descending ? -order : order;
}

function rank(immuneClass: string): number {
  const i = CLASS_ORDER.indexOf(immuneClass as ImmuneClass);
  return i === -1 ? CLASS_ORDER.length : i;
}

/** Warnings outrank advisories, which outrank unchecked items. */
function severityScore(row: CensusRow): number {
  return row.warnings.reduce((sum, w) => sum + (w.severity === 'warning' ? 100 : w.severity === 'advisory' ? 10 : 1), 0);
}

export function Census() {
  const { api, site, sites } = useApp();
  const at = useQueryParam('at');
  const hasCensus = api.has('GET /api/census');
  const [census] = useApiCall<CensusResponse | null>(
    () => (hasCensus ? api.get<CensusResponse>('/api/census', { site, at }) : Promise.resolve({ ok: true, data: null, status: 200 } as ApiResult<null>)),
    [site, at, hasCensus],
  );
  const unavailable = !hasCensus || (census.state === 'done' && !census.result.ok && census.result.error.kind === 'unavailable');
  const scope = site === null ? `all my sites (${sites.map((s) => s.name).join(', ')})` : siteName(sites, site);

  return (
    <section class="census">
      <div class="page-head">
        <h1 tabIndex={-1}>ICU census</h1>
        <p class="muted">{scope}</p>
        <AsOfControl at={at} />
      </div>
      {unavailable ? (
        <PatientListFallback />
      ) : census.state === 'loading' ? (
        <Loading what="the census" />
      ) : !census.result.ok ? (
        <Failure error={census.result.error} what="the census" />
      ) : census.result.data ? (
        <CensusTable data={census.result.data} at={at} />
      ) : null}
    </section>
  );
}

function CensusTable({ data, at }: { data: CensusResponse; at: string | null }) {
  const { sites } = useApp();
  const [search, setSearch] = useState('');
  const [classes, setClasses] = useState<Set<string>>(() => new Set());
  const [sort, setSort] = useState<Sort>({ key: 'class', descending: false });
  // Page state like the other filters: a census is about who is in the ICU now.
  const [includeAll, setIncludeAll] = useState(false);

  const elsewhere = useMemo(() => data.rows.filter((row) => !row.current).length, [data]);
  // The rows in scope: everything below (class counts, "Showing X of Y", filters) counts these.
  const scoped = useMemo(() => (includeAll ? data.rows : data.rows.filter((row) => row.current)), [data, includeAll]);
  const counts = useMemo(() => {
    const c = new Map<string, number>();
    for (const row of scoped) c.set(row.immuneClass, (c.get(row.immuneClass) ?? 0) + 1);
    return c;
  }, [scoped]);
  const ruleSets = useMemo(() => [...new Set(data.rows.map((r) => `${r.ruleSet.id} ${r.ruleSet.version}`))], [data]);

  const rows = useMemo(() => {
    const needle = search.trim().toLowerCase();
    const filtered = scoped.filter(
      (row) =>
        (classes.size === 0 || classes.has(row.immuneClass)) &&
        (needle === '' || row.patientId.toLowerCase().includes(needle) || siteName(sites, row.siteId).toLowerCase().includes(needle)),
    );
    // Ties: sicker first, then by id, so the order is stable and meaningful.
    const sorted = [...filtered].sort(
      (a, b) => compareRows(a, b, sort) || (b.sofaToday ?? -1) - (a.sofaToday ?? -1) || a.patientId.localeCompare(b.patientId),
    );
    return sorted;
  }, [scoped, search, classes, sort, sites]);

  const toggleClass = (value: string) => {
    const next = new Set(classes);
    if (next.has(value)) next.delete(value);
    else next.add(value);
    setClasses(next);
  };

  const header = (key: SortKey, label: string, extra?: string) => {
    const active = sort.key === key;
    return (
      <th scope="col" aria-sort={active ? (sort.descending ? 'descending' : 'ascending') : 'none'} class={extra}>
        <button
          type="button"
          class="sort"
          onClick={() => setSort(active ? { key, descending: !sort.descending } : { key, descending: key === 'sofa' || key === 'warnings' || key === 'gaps' })}
        >
          {label}
          <span aria-hidden="true" class="sort-mark">
            {active ? (sort.descending ? ' ▾' : ' ▴') : ' ↕'}
          </span>
        </button>
      </th>
    );
  };

  return (
    <>
      <AsOfBanner at={at} evaluatedAt={data.at} />
      <div class="census-tools" role="search" aria-label="Filter the census">
        <label class="search">
          Search
          <input
            type="search"
            placeholder="Patient ID or site"
            value={search}
            onInput={(e) => setSearch(e.currentTarget.value)}
            aria-controls="census-table"
          />
        </label>
        <fieldset class="class-filter">
          <legend>Immune class</legend>
          {CLASS_ORDER.map((value) => (
            <label class={`chip chip-${value}`}>
              <input type="checkbox" checked={classes.has(value)} onChange={() => toggleClass(value)} aria-controls="census-table" />
              {classLabel(value)} <span class="chip-count">({counts.get(value) ?? 0})</span>
            </label>
          ))}
        </fieldset>
        <fieldset class="scope-filter">
          <legend>ICU stay</legend>
          <label class="chip">
            <input type="checkbox" checked={includeAll} onChange={() => setIncludeAll(!includeAll)} aria-controls="census-table" />
            Include discharged and deceased <span class="chip-count">({elsewhere})</span>
          </label>
        </fieldset>
      </div>
      <p class="census-count" role="status" aria-live="polite">
        Showing {rows.length} of {plural(scoped.length, 'patient')}
        {includeAll
          ? elsewhere > 0
            ? `, ${elsewhere} of them discharged or deceased`
            : ''
          : ` in the ICU now (alive, data in the last ${data.currentWindowHours} h)`}
        {classes.size > 0 ? ` · class: ${[...classes].map(classLabel).join(', ')}` : ''}
        {search.trim() ? ` · search “${search.trim()}”` : ''}
      </p>
      <div class="table-wrap">
        <table id="census-table" class="census-table" data-state="ready" data-rows={rows.length} data-at={data.at}>
          <caption>
            Immune class under rule set {ruleSets.join(', ') || '—'}. SOFA: today's total (0–24) and the last 7 days; a hollow
            dot on the axis marks a day without SOFA. Components not measured are scored 0 and counted as missing.
          </caption>
          <thead>
            <tr>
              {header('patient', 'Patient')}
              {header('class', 'Immune class')}
              {header('evidence', 'Evidence age')}
              {header('sofa', 'SOFA today · 7 days')}
              {header('sepsis3', 'Sepsis-3')}
              {header('eligibility', 'Eligibility')}
              <th scope="col">Therapy</th>
              {header('warnings', 'Warnings')}
              {header('gaps', 'Data gaps')}
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <CensusTableRow key={row.patientId} row={row} siteLabel={siteName(sites, row.siteId)} at={at} evaluatedAt={data.at} />
            ))}
          </tbody>
        </table>
      </div>
      {rows.length === 0 ? (
        <p class="state">
          {scoped.length === 0 && !includeAll && elsewhere > 0
            ? `No patient has data in the last ${data.currentWindowHours} h. ${plural(elsewhere, 'discharged or deceased patient')} hidden.`
            : 'No patient matches the filters.'}
        </p>
      ) : null}
    </>
  );
}

/**
 * Why a row is not among the patients in the ICU now, in words (never colour alone): the deceased
 * tag says it for the dead; for the others, how long the data have stopped (most likely a
 * discharge, which the data do not record).
 */
function absence(row: CensusRow, evaluatedAt: string): string | null {
  if (row.current || row.deceased) return null;
  if (row.lastDataAt === null) return 'no data yet';
  const hours = (Date.parse(evaluatedAt) - Date.parse(row.lastDataAt)) / 3_600_000;
  return `discharged? no data for ${formatAgeHours(hours)}`;
}

/** Rows re-render only when their own data changes (filtering 500 rows must stay instant). */
const CensusTableRow = memo(function CensusTableRow({
  row,
  siteLabel,
  at,
  evaluatedAt,
}: {
  row: CensusRow;
  siteLabel: string;
  at: string | null;
  evaluatedAt: string;
}) {
  const href = patientPath(row.patientId) + (at ? `?at=${encodeURIComponent(at)}` : '');
  const trend = row.sofaTrend.map((value, i, all) => ({ label: i === all.length - 1 ? 'today' : `day −${all.length - 1 - i}`, value }));
  const warnings = row.warnings.filter((w) => w.severity === 'warning');
  const others = row.warnings.filter((w) => w.severity !== 'warning');
  const stale = row.immuneClass === 'indeterminate' && row.dataGaps.some((g) => g.includes('stale'));
  const away = absence(row, evaluatedAt);
  return (
    <tr class={row.deceased ? 'row-deceased' : away !== null ? 'row-away' : undefined}>
      <th scope="row">
        <a href={href}>{row.patientId}</a>
        <div class="cell-sub">
          {siteLabel} · {row.ageYears ?? '?'} y{row.sex ? `, ${row.sex}` : ''}
          {row.deceased ? <strong class="tag tag-deceased"> · deceased</strong> : null}
          {away !== null ? (
            <strong class="tag tag-away" title={row.lastDataAt ? `Last data ${formatShortDateTime(row.lastDataAt)}` : undefined}>
              {` · ${away}`}
            </strong>
          ) : null}
        </div>
      </th>
      <td>
        <ClassBadge value={row.immuneClass} />
      </td>
      <td>
        {row.evidenceAgeHours === null ? (
          <span class="muted">{stale ? 'stale only' : 'no valid sample'}</span>
        ) : (
          formatAgeHours(row.evidenceAgeHours)
        )}
        {stale ? <div class="cell-sub flag">⚠ stale biomarkers</div> : null}
      </td>
      <td class="cell-sofa">
        <span class="sofa-number">{row.sofaToday ?? '—'}</span>
        <Sparkline points={trend} label={`SOFA of ${row.patientId}, last ${trend.length} days`} />
        {row.sofaMissing.length > 0 ? (
          <div class="cell-sub flag" title={`Not measured today (scored 0): ${row.sofaMissing.join(', ')}`}>
            {row.sofaMissing.length} missing
          </div>
        ) : null}
      </td>
      <td>{row.sepsis3 === null ? <span class="muted">not assessable</span> : row.sepsis3 ? <strong>Met</strong> : 'Not met'}</td>
      <td>{row.eligibility ? <span class={`elig elig-${row.eligibility}`}>{ELIGIBILITY_TEXT[row.eligibility]}</span> : <span class="muted">—</span>}</td>
      <td class="cell-therapy">{row.therapy ? row.therapy.description : <span class="muted">none</span>}</td>
      <td>
        {row.warnings.length === 0 ? (
          <span class="muted">none</span>
        ) : (
          <LazyDetails
            summary={
              <>
                {warnings.length > 0 ? <strong class="flag">⚠ {plural(warnings.length, 'warning')}</strong> : null}
                {warnings.length > 0 && others.length > 0 ? ', ' : ''}
                {others.length > 0 ? plural(others.length, 'note') : null}
              </>
            }
          >
            {() => (
              <ul>
                {row.warnings.map((w) => (
                  <li>
                    <span class={`sev sev-${w.severity}`}>{w.severity}</span> {w.message}
                  </li>
                ))}
              </ul>
            )}
          </LazyDetails>
        )}
      </td>
      <td>
        {row.dataGaps.length === 0 ? (
          <span class="muted">none</span>
        ) : (
          <LazyDetails summary={plural(row.dataGaps.length, 'gap')}>
            {() => (
              <ul>
                {row.dataGaps.map((g) => (
                  <li>{g}</li>
                ))}
              </ul>
            )}
          </LazyDetails>
        )}
      </td>
    </tr>
  );
});

/** Without /api/census: the patient list only, and an honest notice about the rest. */
function PatientListFallback() {
  const { api, site, sites } = useApp();
  const [patients] = useApiCall(() => api.get<{ patients: Patient[] }>('/api/patients', { site }), [site]);
  const now = Date.now();
  return (
    <>
      <NotAvailable feature="Census assessment (immune class, SOFA, Sepsis-3, eligibility, therapy)" endpoints={['GET /api/census']}>
        <p>The patients of your sites are listed below without any clinical assessment.</p>
      </NotAvailable>
      {patients.state === 'loading' ? (
        <Loading what="patients" />
      ) : !patients.result.ok ? (
        <Failure error={patients.result.error} what="the patient list" />
      ) : (
        <table class="census-table" data-state="ready" data-rows={patients.result.data.patients.length}>
          <caption>Patients ({patients.result.data.patients.length})</caption>
          <thead>
            <tr>
              <th scope="col">Patient</th>
              <th scope="col">Site</th>
              <th scope="col">Age</th>
              <th scope="col">Sex</th>
              <th scope="col">Status</th>
            </tr>
          </thead>
          <tbody>
            {patients.result.data.patients.map((p) => (
              <tr key={p.id}>
                <th scope="row">
                  <a href={patientPath(p.id)}>{p.id}</a>
                </th>
                <td>{siteName(sites, p.siteId)}</td>
                <td>{ageYears(p.birthDate, now) ?? '—'}</td>
                <td>{p.sex ?? '—'}</td>
                <td>{p.deceasedAt ? 'deceased' : 'alive'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
