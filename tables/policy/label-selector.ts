// Kubernetes label selectors: parsed and validated once into plain data,
// matched through a compiled closure cached per selector object.
import type { V1LabelSelector } from '@kubernetes/client-node';
import { FieldError } from '../conversion-error.js';
import type { Labels } from '../labels.js';

export type SelectorOperator = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';

/** One requirement; matchLabels entries become `In` with one value. */
export interface SelectorRequirement {
  readonly key: string;
  readonly operator: SelectorOperator;
  /** Sorted, deduplicated; empty for Exists and DoesNotExist. */
  readonly values: readonly string[];
}

/** A parsed selector: all requirements must hold. No requirements selects everything. */
export interface LabelSelector {
  readonly requirements: readonly SelectorRequirement[];
}

/** The selector that selects everything. */
export const SELECT_ALL: LabelSelector = Object.freeze({ requirements: Object.freeze([]) });

const NAME_PART = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** A label key: `[prefix/]name`, prefix a DNS subdomain of at most 253 characters, name at most 63. */
export function isLabelKey(key: string): boolean {
  const slash = key.indexOf('/');
  if (slash < 0) return NAME_PART.test(key);
  const prefix = key.slice(0, slash);
  return prefix.length <= 253 && DNS_SUBDOMAIN.test(prefix) && NAME_PART.test(key.slice(slash + 1));
}

/** A label value: empty, or at most 63 alphanumerics, '-', '_' and '.', alphanumeric at both ends. */
export function isLabelValue(value: string): boolean {
  return value === '' || NAME_PART.test(value);
}

/**
 * Parses a V1LabelSelector. `undefined`/`null`/`{}` select everything.
 * Throws FieldError (with paths below `field`) on an unknown operator,
 * values where none belong or none where some must, or an invalid key or
 * value.
 */
export function parseLabelSelector(selector: V1LabelSelector | undefined | null, field: string): LabelSelector {
  if (selector === undefined || selector === null) return SELECT_ALL;
  if (typeof selector !== 'object' || Array.isArray(selector)) throw new FieldError(field, 'must be a label selector', selector);
  const requirements: SelectorRequirement[] = [];
  const matchLabels = selector.matchLabels ?? {};
  if (typeof matchLabels !== 'object' || Array.isArray(matchLabels)) {
    throw new FieldError(`${field}.matchLabels`, 'must be a map of strings', matchLabels);
  }
  for (const [key, value] of Object.entries(matchLabels)) {
    const at = `${field}.matchLabels[${JSON.stringify(key)}]`;
    if (!isLabelKey(key)) throw new FieldError(at, 'is not a valid label key', key);
    if (typeof value !== 'string' || !isLabelValue(value)) throw new FieldError(at, 'is not a valid label value', value);
    requirements.push({ key, operator: 'In', values: [value] });
  }
  const expressions = selector.matchExpressions ?? [];
  if (!Array.isArray(expressions)) throw new FieldError(`${field}.matchExpressions`, 'must be a list', expressions);
  expressions.forEach((expr, i) => requirements.push(parseRequirement(expr, `${field}.matchExpressions[${i}]`)));
  requirements.sort((a, b) => compareStrings(a.key, b.key) || compareStrings(a.operator, b.operator) || compareStrings(a.values.join(','), b.values.join(',')));
  return { requirements };
}

function parseRequirement(expr: unknown, at: string): SelectorRequirement {
  if (typeof expr !== 'object' || expr === null) throw new FieldError(at, 'must be an object', expr);
  const { key, operator, values } = expr as { key?: unknown; operator?: unknown; values?: unknown };
  if (typeof key !== 'string' || !isLabelKey(key)) throw new FieldError(`${at}.key`, 'is not a valid label key', key);
  if (operator !== 'In' && operator !== 'NotIn' && operator !== 'Exists' && operator !== 'DoesNotExist') {
    throw new FieldError(`${at}.operator`, 'must be In, NotIn, Exists or DoesNotExist', operator);
  }
  const list = values ?? [];
  if (!Array.isArray(list)) throw new FieldError(`${at}.values`, 'must be a list of strings', values);
  list.forEach((v, j) => {
    if (typeof v !== 'string' || !isLabelValue(v)) throw new FieldError(`${at}.values[${j}]`, 'is not a valid label value', v);
  });
  if ((operator === 'In' || operator === 'NotIn') && list.length === 0) {
    throw new FieldError(`${at}.values`, `must not be empty for operator ${operator}`);
  }
  if ((operator === 'Exists' || operator === 'DoesNotExist') && list.length > 0) {
    throw new FieldError(`${at}.values`, `must be empty for operator ${operator}`, list);
  }
  return { key, operator, values: [...new Set(list as string[])].sort(compareStrings) };
}

type Matcher = (labels: Labels) => boolean;
const compiled = new WeakMap<LabelSelector, Matcher>();

/**
 * True when the labels satisfy every requirement: In needs the key with
 * one of the values; NotIn holds when the key is absent or its value is
 * not listed; Exists and DoesNotExist test presence. Compiles the selector
 * on first use.
 */
export function selectorMatches(selector: LabelSelector, labels: Labels): boolean {
  let match = compiled.get(selector);
  if (match === undefined) {
    match = compile(selector);
    compiled.set(selector, match);
  }
  return match(labels);
}

function compile(selector: LabelSelector): Matcher {
  if (selector.requirements.length === 0) return () => true;
  const tests = selector.requirements.map((r): Matcher => {
    const { key } = r;
    const values = new Set(r.values);
    switch (r.operator) {
      case 'In':
        return (labels) => Object.hasOwn(labels, key) && values.has(labels[key]!);
      case 'NotIn':
        return (labels) => !Object.hasOwn(labels, key) || !values.has(labels[key]!);
      case 'Exists':
        return (labels) => Object.hasOwn(labels, key);
      case 'DoesNotExist':
        return (labels) => !Object.hasOwn(labels, key);
    }
  });
  return (labels) => tests.every((t) => t(labels));
}

/** True when the selector selects everything. */
export function selectsAll(selector: LabelSelector): boolean {
  return selector.requirements.length === 0;
}

/** Text form as kubectl prints it: `app=web,tier in (a,b),!legacy,env`. */
export function formatLabelSelector(selector: LabelSelector): string {
  if (selector.requirements.length === 0) return '<all>';
  return selector.requirements
    .map((r) => {
      switch (r.operator) {
        case 'In':
          return r.values.length === 1 ? `${r.key}=${r.values[0]}` : `${r.key} in (${r.values.join(',')})`;
        case 'NotIn':
          return `${r.key} notin (${r.values.join(',')})`;
        case 'Exists':
          return r.key;
        case 'DoesNotExist':
          return `!${r.key}`;
      }
    })
    .join(',');
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
