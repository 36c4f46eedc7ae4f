// Reads the Kubernetes objects of one YAML file: any number of documents
// (`---`), each an object or a `kind: List` of objects. Every problem names
// the file and the line (and column) where it is. Objects of kinds flagella
// does not read (a Deployment kept in the same directory) are skipped with a
// note, not an error. Namespaced objects without a namespace get `default`,
// as with kubectl; cluster-scoped objects lose any namespace.
import { isSeq, LineCounter, parseAllDocuments, type Document, type Node } from 'yaml';
import { isKubeKind, KIND_INFO, objectKey, type KubeKind, type KubeObject } from './kinds.js';

export type FileProblemKind = 'read' | 'parse' | 'invalid' | 'conflict' | 'directory' | 'skipped';

export interface FileProblem {
  readonly kind: FileProblemKind;
  readonly file: string;
  /** 1-based, when known. */
  readonly line?: number;
  readonly column?: number;
  readonly message: string;
}

/** `file:line:col: message`, the shape editors and terminals link. */
export function formatProblem(p: FileProblem): string {
  const at = p.line === undefined ? '' : `:${p.line}${p.column === undefined ? '' : `:${p.column}`}`;
  return `${p.file}${at}: ${p.message}`;
}

export interface FileObject {
  readonly kind: KubeKind;
  readonly object: KubeObject;
  /** objectKey of the object. */
  readonly key: string;
  readonly line: number;
  /** The object as JSON, to tell a changed object from an unchanged one. */
  readonly json: string;
}

export interface ParsedFile {
  readonly objects: readonly FileObject[];
  /** Errors: with any, the file as a whole counts as broken. */
  readonly problems: readonly FileProblem[];
  /** Documents skipped on purpose (unsupported kinds), for a note in the log. */
  readonly skipped: readonly FileProblem[];
}

/** Parses `text` (the content of `file`); never throws. */
export function parseObjectFile(file: string, text: string): ParsedFile {
  const lines = new LineCounter();
  const out = { objects: [] as FileObject[], problems: [] as FileProblem[], skipped: [] as FileProblem[] };
  const at = (offset: number | undefined): { line?: number; column?: number } => {
    if (offset === undefined) return {};
    const pos = lines.linePos(offset);
    return { line: pos.line, column: pos.col };
  };
  let docs: Document.Parsed[];
  try {
    docs = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false }) as Document.Parsed[];
  } catch (err) {
    out.problems.push({ kind: 'parse', file, message: `cannot parse YAML: ${(err as Error).message}` });
    return out;
  }
  if (!Array.isArray(docs)) return out; // an empty stream
  for (const doc of docs) {
    if (doc.errors.length > 0) {
      for (const e of doc.errors) out.problems.push({ kind: 'parse', file, ...at(e.pos[0]), message: e.message });
      continue;
    }
    const docAt = at(doc.contents?.range[0] ?? doc.range[0]);
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (err) {
      out.problems.push({ kind: 'parse', file, ...docAt, message: (err as Error).message });
      continue;
    }
    if (value === null || value === undefined) continue; // an empty document
    if (isRecord(value) && value.kind === 'List' && value.apiVersion === 'v1') {
      const itemsNode = doc.get('items', true) as Node | undefined;
      const items = value.items;
      if (!Array.isArray(items)) {
        out.problems.push({ kind: 'invalid', file, ...docAt, message: 'List without an items array' });
        continue;
      }
      items.forEach((item, i) => {
        const node = isSeq(itemsNode) ? (itemsNode.items[i] as Node | undefined) : undefined;
        readObject(file, item, node?.range ? at(node.range[0]) : docAt, out);
      });
      continue;
    }
    readObject(file, value, docAt, out);
  }
  return out;
}

function readObject(
  file: string,
  value: unknown,
  where: { line?: number; column?: number },
  out: { objects: FileObject[]; problems: FileProblem[]; skipped: FileProblem[] },
): void {
  const invalid = (message: string): void => void out.problems.push({ kind: 'invalid', file, ...where, message });
  if (!isRecord(value)) return invalid('a document must be a mapping (a Kubernetes object)');
  const { kind, apiVersion, metadata } = value;
  if (typeof kind !== 'string' || kind === '') return invalid('object without kind');
  if (typeof apiVersion !== 'string' || apiVersion === '') return invalid(`${kind} without apiVersion`);
  if (!isKubeKind(kind)) {
    out.skipped.push({ kind: 'skipped', file, ...where, message: `${apiVersion} ${kind} is not read by flagella; skipped` });
    return;
  }
  const info = KIND_INFO[kind];
  if (apiVersion !== info.apiVersion) return invalid(`${kind} must have apiVersion ${info.apiVersion} (got ${apiVersion})`);
  if (!isRecord(metadata)) return invalid(`${kind} without metadata`);
  if (typeof metadata.name !== 'string' || metadata.name === '') return invalid(`${kind} without metadata.name`);
  if (info.namespaced) {
    if (metadata.namespace === undefined || metadata.namespace === null || metadata.namespace === '') {
      metadata.namespace = 'default';
    } else if (typeof metadata.namespace !== 'string') {
      return invalid(`${kind} ${metadata.name}: metadata.namespace must be a string`);
    }
  } else {
    delete metadata.namespace;
  }
  const object = value as KubeObject;
  const key = objectKey({ kind, namespace: (metadata.namespace as string | undefined) ?? '', name: metadata.name });
  out.objects.push({ kind, object, key, line: where.line ?? 1, json: JSON.stringify(object) });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
