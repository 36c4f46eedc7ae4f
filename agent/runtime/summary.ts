// The `--once` summary: tables with object counts, reconciler results, map
// entry counts, map writes, and the errors, as aligned text.
import { renderTable } from '../../statedb/index.js';
import type { AgentStatus } from './agent-status.js';
import type { ConvergenceResult } from './converge.js';

export function formatSummary(status: AgentStatus, result: ConvergenceResult): string {
  const out: string[] = [];
  const seconds = (result.elapsedMs / 1000).toFixed(1);
  out.push(result.converged ? `converged in ${seconds} s` : `not converged after ${seconds} s`, '');
  out.push(
    'Tables:',
    indent(
      renderTable({
        header: ['Name', 'Objects', 'Revision', 'Initialized'],
        rows: status.tables.map((t) => [t.name, String(t.objects), String(t.revision), t.initialized ? 'yes' : `no (${t.pendingInitializers.join(', ')})`]),
      }),
    ),
  );
  out.push(
    'Sources:',
    indent(
      renderTable({
        header: ['Name', 'Health', 'Synced', 'Changes', 'Rejected'],
        rows: status.sources.map((s) => [s.name, s.health, s.synced ? 'yes' : 'no', String(s.counters.changesApplied), String(status.rejectedObjects.filter((r) => r.source === s.name).length)]),
      }),
    ),
  );
  out.push(
    'Reconcilers:',
    indent(
      renderTable({
        header: ['Name', 'Table', 'Health', 'Objects', 'Pending', 'Errored'],
        rows: status.reconcilers.map((r) => [r.name, r.table, r.health, String(r.objects), String(r.pending), String(r.errored)]),
      }),
    ),
  );
  out.push(
    'Maps:',
    indent(renderTable({ header: ['Map', 'Entries'], rows: Object.entries(status.datapath.mapEntries).map(([name, n]) => [name, String(n)]) })),
  );
  const w = status.datapath.lbMapWrites;
  out.push(`Load-balancing map writes: ${w.total} (${w.puts} puts, ${w.deletes} deletes)`);
  if (status.datapath.devices.length > 0) {
    out.push(`Attached: ${status.datapath.devices.map((d) => `${d.device} ${d.hook} (${d.outcome})`).join(', ')}`);
  }
  if (result.errors.length > 0) {
    out.push('', `Errors (${result.errors.length}):`, ...result.errors.map((e) => `  - ${e}`));
  }
  return `${out.join('\n')}\n`;
}

function indent(text: string): string {
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => `  ${l}`)
    .join('\n');
}
