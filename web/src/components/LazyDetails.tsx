/** A <details> whose content is built only once opened: the census has hundreds of them. */
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';

export function LazyDetails({ summary, children }: { summary: ComponentChildren; children: () => ComponentChildren }) {
  const [open, setOpen] = useState(false);
  return (
    <details onToggle={(e) => setOpen((e.currentTarget as HTMLDetailsElement).open)}>
      <summary>{summary}</summary>
      {open ? children() : null}
    </details>
  );
}
