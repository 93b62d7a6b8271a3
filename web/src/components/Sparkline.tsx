/**
 * A 7-day SOFA sparkline drawn as plain SVG (cheap enough for hundreds of census rows; the chart
 * library is kept for the patient page). Missing days are gaps with a hollow marker on the axis,
 * never a line drawn through them; the text alternative lists every day.
 */
export interface SparkPoint {
  /** Day label for the text alternative, e.g. "12 Jan". */
  label: string;
  value: number | null;
}

const WIDTH = 84;
const HEIGHT = 24;
const PAD = 3;
/** SOFA ranges 0-24; a fixed scale keeps rows comparable at a glance. */
const MAX = 24;

export function Sparkline({ points, label }: { points: SparkPoint[]; label: string }) {
  if (points.length === 0) return <span class="muted">no days</span>;
  const step = points.length > 1 ? (WIDTH - 2 * PAD) / (points.length - 1) : 0;
  const x = (i: number) => PAD + i * step;
  const y = (v: number) => HEIGHT - PAD - (Math.min(Math.max(v, 0), MAX) / MAX) * (HEIGHT - 2 * PAD);
  const segments: string[] = [];
  let current = '';
  points.forEach((p, i) => {
    if (p.value === null) {
      if (current) segments.push(current);
      current = '';
    } else {
      current += `${current ? 'L' : 'M'}${x(i).toFixed(1)},${y(p.value).toFixed(1)}`;
    }
  });
  if (current) segments.push(current);
  const text = `${label}: ${points.map((p) => `${p.label} ${p.value === null ? 'not scored' : p.value}`).join(', ')}`;
  const last = points.length - 1;
  const lastValue = points[last]?.value;
  return (
    <svg class="sparkline" width={WIDTH} height={HEIGHT} viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={text}>
      <title>{text}</title>
      <line x1={PAD} x2={WIDTH - PAD} y1={HEIGHT - PAD} y2={HEIGHT - PAD} class="sparkline-axis" />
      {segments.map((d) => (
        <path d={d} class="sparkline-line" />
      ))}
      {points.map((p, i) =>
        p.value === null ? (
          <circle cx={x(i)} cy={HEIGHT - PAD} r={1.8} class="sparkline-missing" />
        ) : (points[i - 1]?.value ?? null) === null && (points[i + 1]?.value ?? null) === null ? (
          // An isolated day has no line to either side: draw it as a dot.
          <circle cx={x(i)} cy={y(p.value)} r={1.6} class="sparkline-dot" />
        ) : null,
      )}
      {lastValue !== null && lastValue !== undefined ? <circle cx={x(last)} cy={y(lastValue)} r={2.2} class="sparkline-last" /> : null}
    </svg>
  );
}
