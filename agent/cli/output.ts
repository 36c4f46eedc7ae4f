// Standard output that survives its reader going away: `flagella db show x
// | head -1` closes the pipe, the next write fails with EPIPE, and instead of
// an unhandled error (or a process kept alive by lmdb's worker) we call
// onClosed, which ends the command cleanly with exit status 0.
import type { Output } from './context.js';

export class StreamOutput implements Output {
  private isClosed = false;

  constructor(
    private readonly stream: NodeJS.WritableStream,
    private readonly onClosed: () => void,
  ) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE' || e.code === 'ERR_STREAM_DESTROYED') this.markClosed();
      else throw e;
    });
  }

  get closed(): boolean {
    return this.isClosed;
  }

  write(text: string): void {
    if (this.isClosed || text.length === 0) return;
    this.stream.write(text);
  }

  private markClosed(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.onClosed();
  }
}
