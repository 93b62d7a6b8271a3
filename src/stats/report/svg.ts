/**
 * A few helpers to write SVG as text (no dependency, no DOM): escaping, element building,
 * number formatting that does not leak binary noise into the markup, and "nice" axis ticks.
 */

/** Escapes text for XML/HTML content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/** A coordinate with at most 2 decimals (SVG does not need more). */
export function n2(x: number): string {
  return String(Math.round(x * 100) / 100);
}

export type Attributes = Record<string, string | number | undefined>;

function attributes(attrs: Attributes): string {
  return Object.entries(attrs)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${typeof v === 'number' ? n2(v) : escapeXml(v as string)}"`)
    .join('');
}

/** An element with children given as markup strings (already escaped). */
export function el(name: string, attrs: Attributes, ...children: string[]): string {
  return children.length === 0 ? `<${name}${attributes(attrs)}/>` : `<${name}${attributes(attrs)}>${children.join('')}</${name}>`;
}

/** A text element; `content` is escaped here. */
export function text(x: number, y: number, content: string, attrs: Attributes = {}): string {
  return el('text', { x, y, ...attrs }, escapeXml(content));
}

/** The root element, sized in CSS pixels and scalable (viewBox), with a title for screen readers. */
export function svgRoot(width: number, height: number, title: string, body: string[]): string {
  return el(
    'svg',
    { xmlns: 'http://www.w3.org/2000/svg', viewBox: `0 0 ${n2(width)} ${n2(height)}`, width, height, role: 'img', 'font-family': 'Helvetica, Arial, sans-serif', 'font-size': 12 },
    el('title', {}, escapeXml(title)),
    ...body,
  );
}

/** "Nice" tick values covering [min, max] (steps of 1, 2 or 5 times a power of ten). */
export function niceTicks(min: number, max: number, approximateCount = 5): number[] {
  if (!(max > min)) return [min];
  const raw = (max - min) / approximateCount;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power) as number;
  const ticks: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

/** A linear scale from a domain to a pixel range. */
export function linearScale(domain: [number, number], range: [number, number]): (x: number) => number {
  const [d0, d1] = domain;
  const [r0, r1] = range;
  return (x) => r0 + ((x - d0) / (d1 - d0 || 1)) * (r1 - r0);
}

/** Colour-blind-safe arm colours (Okabe-Ito) and a neutral pooled colour. */
export const COLOURS = { first: '#0072B2', second: '#D55E00', pooled: '#333333', grid: '#dddddd', muted: '#777777' } as const;

/** Approximate text width in pixels for Helvetica-like fonts (for layout only). */
export function textWidth(content: string, fontSize = 12): number {
  return content.length * fontSize * 0.56;
}

/** Greedy word wrap to lines of at most `maxChars` characters. */
export function wrap(content: string, maxChars: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of content.split(/\s+/).filter((w) => w !== '')) {
    if (line === '') line = word;
    else if (line.length + 1 + word.length <= maxChars) line += ` ${word}`;
    else {
      lines.push(line);
      line = word;
    }
  }
  if (line !== '') lines.push(line);
  return lines;
}
