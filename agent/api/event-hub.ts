// Datapath events (drops, traces) for any number of API clients. The ring
// buffer has one consumer position, so the agent reads it once and fans the
// events out; it reads only while someone listens, and skips what piled up
// before the first listener (monitoring shows live events).
import type { DatapathEvent, EventReader } from '../../datapath/index.js';

export type EventListener = (event: DatapathEvent) => void;

export class EventHub {
  private readonly listeners = new Set<EventListener>();
  private reader: EventReader | undefined;

  /** `open` makes a reader of the datapath's ring buffer (called on the first subscription). */
  constructor(private readonly open: () => EventReader) {}

  /**
   * Calls `listener` for every event from now on; returns the unsubscribe
   * function. Throws BpfError when the ring buffer cannot be opened.
   */
  subscribe(listener: EventListener): () => void {
    if (this.reader === undefined) {
      const reader = this.open();
      try {
        reader.poll();
        reader.start((event) => {
          for (const l of [...this.listeners]) l(event);
        });
      } catch (err) {
        reader.close();
        throw err;
      }
      this.reader = reader;
    }
    this.listeners.add(listener);
    let active = true;
    return () => {
      if (!active) return;
      active = false;
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.close();
    };
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  /** Stops reading (listeners stay registered but get nothing more). Idempotent. */
  close(): void {
    this.reader?.stop();
    this.reader?.close();
    this.reader = undefined;
  }
}

/** An event as JSON: the kernel timestamp (a bigint) as a decimal string. */
export function eventToJSON(event: DatapathEvent): Record<string, unknown> {
  return { ...event, timestampNs: event.timestampNs.toString() };
}
