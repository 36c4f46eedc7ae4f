// Typed errors for turning external objects (Kubernetes, YAML, API input)
// into rows. Validation code deep inside a conversion throws a FieldError
// that knows only the field path relative to the object; the top-level
// converter wraps it into a ConversionError that also names the object, so
// messages read `Service default/web: spec.ports[1].port: ...` without every
// helper having to know which object it is looking at.

/** The kinds of objects the converters in this folder accept. */
export type ConvertedKind = 'Service' | 'EndpointSlice' | 'NetworkPolicy' | 'Pod' | 'Namespace' | 'Node';

/**
 * A problem with one field of an object, thrown by validation helpers.
 * `field` is a path such as `spec.ports[1].port`; `value` is the offending
 * value (omitted when the field is missing).
 */
export class FieldError extends Error {
  override readonly name = 'FieldError';
  constructor(
    readonly field: string,
    readonly problem: string,
    readonly value?: unknown,
  ) {
    super(`${field}: ${problem}${describeValue(value)}`);
  }
}

/**
 * An object that could not be converted. Names the object (`ns/name`, or
 * `<unnamed>` when the name itself is the problem), its kind, the field path
 * and the problem. Converters throw only this type; the batch helper
 * collects them so one bad object never blocks the rest.
 */
export class ConversionError extends Error {
  override readonly name = 'ConversionError';
  constructor(
    readonly kind: ConvertedKind,
    readonly object: string,
    readonly field: string,
    readonly problem: string,
    readonly value?: unknown,
  ) {
    super(`${kind} ${object}: ${field === '' ? '' : `${field}: `}${problem}${describeValue(value)}`);
  }

  /** Wraps any thrown value into a ConversionError for the given object. */
  static from(kind: ConvertedKind, object: string, err: unknown): ConversionError {
    if (err instanceof ConversionError) return err;
    if (err instanceof FieldError) return new ConversionError(kind, object, err.field, err.problem, err.value);
    // A malformed object (e.g. `spec.ports` being a string in hand-written
    // YAML) can make a converter trip over a TypeError: still report it as a
    // conversion failure of this object rather than crash the caller.
    const detail = err instanceof Error ? err.message : String(err);
    return new ConversionError(kind, object, '', `malformed object: ${detail}`);
  }

  toJSON(): { kind: ConvertedKind; object: string; field: string; problem: string; message: string } {
    return { kind: this.kind, object: this.object, field: this.field, problem: this.problem, message: this.message };
  }
}

function describeValue(value: unknown): string {
  if (value === undefined) return '';
  let text: string;
  try {
    // JSON.stringify gives undefined for functions and symbols.
    const json: string | undefined = JSON.stringify(value);
    text = json ?? typeof value;
  } catch {
    text = `<unprintable ${typeof value}>`;
  }
  if (text.length > 80) text = `${text.slice(0, 77)}...`;
  return ` (got ${text})`;
}

/** Results of converting many objects: the good ones and one error per bad one. */
export interface BatchResult<T> {
  readonly results: T[];
  readonly errors: ConversionError[];
}

/**
 * Converts every item with `convert`, collecting ConversionErrors instead of
 * stopping at the first: one bad object never blocks the rest. Any other
 * thrown value is wrapped as a ConversionError of `kind` for an unknown
 * object, so this never throws.
 */
export function convertEach<I, O>(items: Iterable<I>, kind: ConvertedKind, convert: (item: I) => O): BatchResult<O> {
  const results: O[] = [];
  const errors: ConversionError[] = [];
  for (const item of items) {
    try {
      results.push(convert(item));
    } catch (err) {
      errors.push(ConversionError.from(kind, '<unknown>', err));
    }
  }
  return { results, errors };
}
