import { useEffect, useRef, useState } from 'preact/hooks';
import type { ApiResult } from './api.ts';

export type Loadable<T> = { state: 'loading' } | { state: 'done'; result: ApiResult<T> };

/**
 * Runs an API call when its dependencies change; ignores answers that arrive after a newer call.
 * The returned reload() refetches while keeping the current answer on screen (no flash of
 * "loading", and components below keep their state).
 */
export function useApiCall<T>(call: () => Promise<ApiResult<T>>, deps: unknown[]): [Loadable<T>, () => void] {
  const [value, setValue] = useState<Loadable<T>>({ state: 'loading' });
  const [generation, setGeneration] = useState(0);
  const reloading = useRef(false);
  useEffect(() => {
    let current = true;
    if (!reloading.current) setValue({ state: 'loading' });
    reloading.current = false;
    void call().then((result) => {
      if (current) setValue({ state: 'done', result });
    });
    return () => {
      current = false;
    };
  }, [...deps, generation]);
  return [
    value,
    () => {
      reloading.current = true;
      setGeneration((g) => g + 1);
    },
  ];
}

/** The current URL's query parameters, re-read on every in-app navigation. */
export function useQueryParam(name: string): string | null {
  const read = () => new URLSearchParams(location.search).get(name);
  const [value, setValue] = useState(read);
  useEffect(() => {
    const update = () => setValue(read());
    window.addEventListener('immunoguide:navigate', update);
    window.addEventListener('popstate', update);
    return () => {
      window.removeEventListener('immunoguide:navigate', update);
      window.removeEventListener('popstate', update);
    };
  }, [name]);
  return value;
}
