// What the directory currently says, file by file, and the objects that
// result. A file that fails to read or parse keeps the objects of its last
// good version (none if it never parsed) until it parses again, so a
// half-saved edit cannot delete anything. An object defined by several files
// (same kind, namespace and name) is a conflict: the first file in path
// order wins, deterministically, and the conflict is reported.
import { describeRef, type ObjectRef } from './kinds.js';
import type { FileObject, FileProblem, ParsedFile } from './yaml-objects.js';

export interface OwnedObject extends FileObject {
  readonly file: string;
}

export interface Conflict {
  readonly ref: string;
  /** Where the object is defined, the winner first. */
  readonly places: readonly { readonly file: string; readonly line: number }[];
}

interface FileRecord {
  hash: string;
  objects: readonly FileObject[];
  problems: readonly FileProblem[];
  /** Whether some version of the file was read and parsed. */
  parsedOnce: boolean;
}

export class FileSet {
  private readonly files = new Map<string, FileRecord>();

  /** Content hash of the version last recorded for `file`. */
  hashOf(file: string): string | undefined {
    return this.files.get(file)?.hash;
  }

  get size(): number {
    return this.files.size;
  }

  /** Records a new version. With problems, the previous objects stay. Returns whether it parsed. */
  update(file: string, hash: string, parsed: ParsedFile): boolean {
    const prev = this.files.get(file);
    const ok = parsed.problems.length === 0;
    this.files.set(file, { hash, objects: ok ? parsed.objects : (prev?.objects ?? []), problems: parsed.problems, parsedOnce: ok || prev?.parsedOnce === true });
    return ok;
  }

  /** The file could not be read: keep its objects, record why (and forget its hash so it is read again). */
  failed(file: string, problem: FileProblem): void {
    const prev = this.files.get(file);
    this.files.set(file, { hash: '', objects: prev?.objects ?? [], problems: [problem], parsedOnce: prev?.parsedOnce === true });
  }

  remove(file: string): void {
    this.files.delete(file);
  }

  /** Files recorded, in path order. */
  paths(): string[] {
    return [...this.files.keys()].sort(comparePaths);
  }

  /** Read and parse problems of every file, in path order. */
  problems(): FileProblem[] {
    return this.paths().flatMap((f) => this.files.get(f)!.problems);
  }

  /** Whether `file` is currently broken. */
  isBroken(file: string): boolean {
    return (this.files.get(file)?.problems.length ?? 0) > 0;
  }

  /** Broken files that never parsed, in path order: what they define is unknown. */
  neverParsed(): string[] {
    return this.paths().filter((f) => !this.files.get(f)!.parsedOnce);
  }

  /** The winning definition of every object, and the conflicts. */
  resolve(): { objects: Map<string, OwnedObject>; conflicts: Conflict[] } {
    const objects = new Map<string, OwnedObject>();
    const places = new Map<string, { ref: ObjectRef; list: { file: string; line: number }[] }>();
    for (const file of this.paths()) {
      for (const obj of this.files.get(file)!.objects) {
        const seen = places.get(obj.key);
        if (seen === undefined) {
          objects.set(obj.key, { ...obj, file });
          places.set(obj.key, { ref: refFromKey(obj.key), list: [{ file, line: obj.line }] });
        } else {
          seen.list.push({ file, line: obj.line });
        }
      }
    }
    const conflicts: Conflict[] = [];
    for (const { ref, list } of places.values()) {
      if (list.length > 1) conflicts.push({ ref: describeRef(ref), places: list });
    }
    return { objects, conflicts };
  }
}

/** Byte-wise order on the path (locale-independent, so every machine agrees). */
function comparePaths(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

function refFromKey(key: string): ObjectRef {
  const [kind, namespace, ...name] = key.split('/');
  return { kind: kind as ObjectRef['kind'], namespace: namespace ?? '', name: name.join('/') };
}
