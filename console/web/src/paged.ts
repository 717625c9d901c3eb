import { ref, Ref } from 'vue';
import { api } from './api';

/** A table the server pages: one page of rows at a time from `path` (which answers `{[key]: rows, offset, pageSize, more}`). */
export function usePaged<T>(path: string, key: string) {
  const rows = ref([]) as Ref<T[]>;
  const page = ref({ offset: 0, pageSize: 20, more: false });
  const loading = ref(false);
  async function load(offset = page.value.offset): Promise<Record<string, unknown>> {
    loading.value = true;
    try {
      const res = await api<Record<string, unknown> & { offset: number; pageSize: number; more: boolean }>('GET', `${path}?offset=${offset}`);
      rows.value = res[key] as T[];
      page.value = { offset: res.offset, pageSize: res.pageSize, more: res.more };
      return res;
    } finally {
      loading.value = false;
    }
  }
  const prev = () => load(Math.max(0, page.value.offset - page.value.pageSize));
  const next = () => load(page.value.offset + page.value.pageSize);
  /** shows a row the chain just answered with, before the indexer catches up */
  function show(row: T, same: (r: T) => boolean) {
    const i = rows.value.findIndex(same);
    if (i >= 0) rows.value[i] = row;
    else rows.value.push(row);
  }
  return { rows, page, loading, load, prev, next, show };
}
