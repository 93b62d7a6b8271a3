/**
 * Immune class as colour AND text AND shape: the word is always printed, the glyph differs by
 * class, and the colours (checked for 4.5:1 contrast with their text) only reinforce them.
 */
export type ImmuneClass = 'MALS' | 'immunoparalysis' | 'unclassified' | 'indeterminate';

const CLASSES: Record<ImmuneClass, { label: string; glyph: string; description: string }> = {
  MALS: { label: 'MALS', glyph: '▲', description: 'Macrophage activation-like syndrome (hyperinflammation)' },
  immunoparalysis: { label: 'Immunoparalysis', glyph: '▼', description: 'Immunoparalysis (low monocyte HLA-DR)' },
  unclassified: { label: 'Unclassified', glyph: '●', description: 'Neither MALS nor immunoparalysis: no targeted therapy' },
  indeterminate: { label: 'Indeterminate', glyph: '?', description: 'Cannot classify: biomarkers missing or stale' },
};

export function isImmuneClass(value: unknown): value is ImmuneClass {
  return typeof value === 'string' && value in CLASSES;
}

export function classLabel(value: string): string {
  return isImmuneClass(value) ? CLASSES[value].label : value;
}

export function ClassBadge({ value, detail }: { value: string | null | undefined; detail?: string }) {
  if (!isImmuneClass(value)) {
    return <span class="badge badge-none">{value ? value : 'Not available'}</span>;
  }
  const info = CLASSES[value];
  return (
    <span class={`badge badge-${value}`} title={info.description}>
      <span class="badge-glyph" aria-hidden="true">
        {info.glyph}
      </span>
      {info.label}
      {detail ? <span class="badge-detail"> ({detail})</span> : null}
    </span>
  );
}
