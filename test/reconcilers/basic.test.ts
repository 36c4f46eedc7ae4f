// Acceptance check 17 (reference §14): the basic flow.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { settle } from '../../reconcilers/index.js';
import { done, pending, startItems } from './fixture.js';

const basic = suite('basic flow');

basic('a pending row is updated once with its revision, and its status becomes done', async () => {
  const h = startItems();
  try {
    const rev = h.insert(pending(1));
    await h.reconciler.waitUntilReconciled(rev);
    assert.equal(h.target.take(), ['update(1)']);
    assert.equal(h.target.revisions.get(1), [rev]);
    assert.ok(rev > 0);
    assert.is(h.get(1)!.status.kind, 'done');
    assert.is(h.target.state.get(1), 'v1');
  } finally {
    await h.reconciler.stop();
  }
});

basic('a row inserted done is never updated', async () => {
  const h = startItems();
  try {
    const rev = h.insert(done(2));
    await h.reconciler.waitUntilReconciled(rev);
    await settle();
    assert.equal(h.target.take(), []);
  } finally {
    await h.reconciler.stop();
  }
});

basic('deleting a row calls delete once with its last version', async () => {
  const h = startItems();
  try {
    await h.reconciler.waitUntilReconciled(h.insert(pending(1, 'first')));
    await h.reconciler.waitUntilReconciled(h.insert(pending(1, 'second')));
    h.target.take();
    const deleted: string[] = [];
    const original = h.target.delete.bind(h.target);
    h.target.delete = (txn, rev, obj) => {
      deleted.push(obj.value);
      return original(txn, rev, obj);
    };
    await h.reconciler.waitUntilReconciled(h.remove(1));
    assert.equal(h.target.take(), ['delete(1)']);
    assert.equal(deleted, ['second']);
    assert.is(h.target.state.size, 0);
  } finally {
    await h.reconciler.stop();
  }
});

basic('the engine’s own status write-backs do not trigger another update', async () => {
  const h = startItems();
  try {
    const rev = h.insert(pending(1), pending(2), pending(3));
    await h.reconciler.waitUntilReconciled(rev);
    // Wait past the write-back revisions too, then give it time to misbehave.
    await h.reconciler.waitUntilReconciled(h.table.revision(h.db.readTxn()));
    await settle(10);
    assert.equal(h.target.take().sort(), ['update(1)', 'update(2)', 'update(3)']);
    assert.is(h.reconciler.health.message, 'OK, 3 object(s)');
    assert.is(h.reconciler.health.level, 'ok');
  } finally {
    await h.reconciler.stop();
  }
});

basic.run();
