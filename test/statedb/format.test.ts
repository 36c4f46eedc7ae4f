// db show formatting (aligned text, YAML, JSON, column selection) and JSON
// dumps, checked against exact expected text.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseAllDocuments } from 'yaml';
import {
  cellsFromJSON,
  DB,
  dumpJSON,
  dumpTables,
  formatRows,
  Keys,
  nonUniqueIndex,
  plainRow,
  renderTable,
  selectColumns,
  uniqueIndex,
  UnknownColumnError,
} from '../../statedb/index.js';
import { throwsA } from './fixtures.js';

interface Fe {
  readonly address: string;
  readonly service: string;
  readonly backends: number;
  readonly note?: string;
}

function tables() {
  const db = new DB({ validate: true });
  const withHeader = db.newTable({
    name: 'frontends',
    primary: uniqueIndex('address', Keys.string, (f: Fe) => f.address),
    secondary: { service: nonUniqueIndex('service', Keys.string, (f: Fe) => f.service) },
    header: ['Address', 'Service', 'Backends'],
    row: (f: Fe) => [f.address, f.service, String(f.backends)],
  });
  const derived = db.newTable({ name: 'plain', primary: uniqueIndex('address', Keys.string, (f: Fe) => f.address) });
  const rows: Fe[] = [
    { address: '10.0.0.2:443', service: 'default/web', backends: 12 },
    { address: '10.0.0.1:80', service: 'kube-system/dns', backends: 3, note: 'two\nlines' },
  ];
  db.write([withHeader, derived], (w) => {
    for (const r of rows) {
      withHeader.insert(w, r);
      derived.insert(w, { ...r });
    }
  });
  return { db, withHeader, derived };
}

const text = suite('aligned tables');

text('header and rows from the table, in primary-key order, aligned with three spaces', () => {
  const { db, withHeader } = tables();
  const out = formatRows(withHeader, [...withHeader.all(db.readTxn())].map((e) => e.object));
  assert.is(
    out,
    [
      'Address        Service           Backends',
      '10.0.0.1:80    kube-system/dns   3',
      '10.0.0.2:443   default/web       12',
      '',
    ].join('\n'),
  );
});

text('columns derived from JSON keys when the table defines no header; control characters escaped', () => {
  const { db, derived } = tables();
  const out = formatRows(derived, [...derived.all(db.readTxn())].map((e) => e.object));
  assert.is(
    out,
    [
      'address        service           backends   note',
      '10.0.0.1:80    kube-system/dns   3          two\\nlines',
      '10.0.0.2:443   default/web       12',
      '',
    ].join('\n'),
  );
  assert.equal(cellsFromJSON([1, 'x']), { header: ['Value'], rows: [['1'], ['x']] });
  assert.equal(cellsFromJSON([{ a: { b: [1] }, c: null }]), { header: ['a', 'c'], rows: [['{"b":[1]}', '']] });
});

text('column selection: case-insensitive, in the order asked; an unknown column lists the known ones', () => {
  const { db, withHeader } = tables();
  const objects = [...withHeader.all(db.readTxn())].map((e) => e.object);
  assert.is(
    formatRows(withHeader, objects, { columns: ['backends', 'ADDRESS'] }),
    ['Backends   Address', '3          10.0.0.1:80', '12         10.0.0.2:443', ''].join('\n'),
  );
  const e = throwsA(() => formatRows(withHeader, objects, { columns: ['Port'] }), UnknownColumnError) as UnknownColumnError;
  assert.is(e.message, 'unknown column "Port"; the columns are: Address, Service, Backends');
  assert.equal(selectColumns({ header: ['A'], rows: [] }, ['a']), { header: ['A'], rows: [] });
});

text('an empty table prints its header only; a throwing row function gives error cells', () => {
  const db = new DB();
  const t = db.newTable({
    name: 't',
    primary: uniqueIndex('id', Keys.u32, (o: { id: number }) => o.id),
    header: ['ID', 'Double'],
    row: (o: { id: number }) => {
      if (o.id === 2) throw new Error('no cells');
      return [String(o.id), String(o.id * 2)];
    },
  });
  assert.is(formatRows(t, []), 'ID   Double\n');
  assert.is(formatRows(t, [{ id: 1 }, { id: 2 }]), 'ID                ' + 'Double\n1                 2\nerror: no cells   error: no cells\n');
  assert.is(renderTable({ header: ['A', 'B'], rows: [['', 'x']] }), 'A   B\n    x\n');
});

text.run();

const docs = suite('YAML and JSON');

docs('YAML: one document per row separated by ---, parseable back to the rows', () => {
  const { db, withHeader } = tables();
  const objects = [...withHeader.all(db.readTxn())].map((e) => e.object);
  const out = formatRows(withHeader, objects, { format: 'yaml' });
  assert.is(
    out,
    [
      'address: 10.0.0.1:80',
      'service: kube-system/dns',
      'backends: 3',
      'note: |-',
      '  two',
      '  lines',
      '---',
      'address: 10.0.0.2:443',
      'service: default/web',
      'backends: 12',
      '',
    ].join('\n'),
  );
  assert.equal(
    parseAllDocuments(out).map((d) => d.toJS() as unknown),
    objects,
  );
  assert.is(formatRows(withHeader, [], { format: 'yaml' }), '');
});

docs('JSON: an indented array of the rows through toJSON', () => {
  const db = new DB();
  const t = db.newTable({
    name: 't',
    primary: uniqueIndex('id', Keys.u32, (o: { id: number; secret: string }) => o.id),
    toJSON: (o: { id: number; secret: string }) => ({ id: o.id }),
  });
  assert.is(formatRows(t, [{ id: 1, secret: 's' }], { format: 'json' }), '[\n  {\n    "id": 1\n  }\n]\n');
  assert.is(formatRows(t, [], { format: 'json' }), '[]\n');
});

docs.run();

const dumps = suite('JSON dumps');

dumps('every table in primary-key order; bigint, Map, Set and bytes made plain', () => {
  const db = new DB();
  interface Odd {
    readonly id: number;
    readonly big: bigint;
    readonly labels: Map<string, string>;
    readonly pairs: Map<number[], number>;
    readonly tags: Set<string>;
    readonly mac: Uint8Array;
  }
  const odd = db.newTable({ name: 'odd', primary: uniqueIndex('id', Keys.u32, (o: Odd) => o.id) });
  const empty = db.newTable({ name: 'empty', primary: uniqueIndex('id', Keys.u32, (o: { id: number }) => o.id) });
  db.write(odd, (w) => {
    for (const id of [2, 1]) {
      odd.insert(w, {
        id,
        big: 2n ** 70n,
        labels: new Map([['app', 'web']]),
        pairs: new Map([[[1], 2]]),
        tags: new Set(['a']),
        mac: new Uint8Array([1, 2]),
      });
    }
  });
  const plain = { big: '1180591620717411303424', labels: { app: 'web' }, pairs: [[[1], 2]], tags: ['a'], mac: [1, 2] };
  const want = { odd: [{ id: 1, ...plain }, { id: 2, ...plain }], empty: [] };
  assert.equal(dumpTables(db.readTxn(), [odd, empty]), want);
  const text = dumpJSON(db.readTxn(), [odd, empty]);
  assert.equal(JSON.parse(text), want);
  assert.ok(text.startsWith('{\n  "odd": [\n    {"id":1,'), text.slice(0, 40));
  assert.ok(text.endsWith('  ],\n  "empty": []\n}\n'), text.slice(-40));
  assert.is(dumpJSON(db.readTxn(), []), '{}\n');
});

dumps('a row whose serialisation throws is an error string; the others are intact', () => {
  const db = new DB();
  interface R {
    readonly id: number;
  }
  const t = db.newTable({
    name: 'r',
    primary: uniqueIndex('id', Keys.u32, (o: R) => o.id),
    toJSON: (o: R) => {
      if (o.id === 2) throw new Error('cannot serialise row 2');
      return o;
    },
  });
  db.write(t, (w) => [1, 2, 3].forEach((id) => t.insert(w, { id })));
  assert.equal(JSON.parse(dumpJSON(db.readTxn(), [t])), { r: [{ id: 1 }, 'error: cannot serialise row 2', { id: 3 }] });
  const cyclic: { id: number; self?: unknown } = { id: 9 };
  cyclic.self = cyclic;
  assert.match(String(plainRow(t, cyclic)), /^error: .*circular/i);
});

dumps.run();
