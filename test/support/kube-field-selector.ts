// Field selectors as the loopback API server understands them:
// `path=value`, `path==value`, `path!=value`, joined by commas; a path is
// dotted (`spec.nodeName`, `metadata.namespace`) and a missing field reads
// as '' (as in Kubernetes).

export interface FieldRequirement {
  readonly path: readonly string[];
  readonly op: '=' | '!=';
  readonly value: string;
}

export type FieldSelector = readonly FieldRequirement[];

/** Parses a selector; throws Error naming the bad term. */
export function parseSelector(text: string): FieldSelector {
  if (text.trim() === '') return [];
  return text.split(',').map((term) => {
    const m = /^\s*([A-Za-z0-9_.]+)\s*(==|=|!=)\s*([^,]*?)\s*$/.exec(term);
    if (m === null) throw new Error(`invalid field selector term "${term}"`);
    return { path: m[1]!.split('.'), op: m[2] === '!=' ? '!=' : '=', value: m[3]! };
  });
}

export function selectorMatches(selector: FieldSelector, object: unknown): boolean {
  return selector.every((req) => {
    let v: unknown = object;
    for (const part of req.path) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[part] : undefined;
    const actual = typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : '';
    return req.op === '=' ? actual === req.value : actual !== req.value;
  });
}
