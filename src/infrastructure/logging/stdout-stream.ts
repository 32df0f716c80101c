import { fstatSync, openSync, writeSync } from 'node:fs';
import net from 'node:net';

/** What may wait for a reader that is not reading (a stuck pipe); past it, lines are dropped and counted. */
const MAX_PENDING_BYTES = 8 * 1024 * 1024;
/**
 * PIPE_BUF: a write to a pipe of at most this many bytes is atomic, so lines written by several server processes
 * sharing stdout (WORKERS) never interleave mid-line as long as each write holds whole lines and no more than this.
 */
const ATOMIC_WRITE_BYTES = 4096;

export interface StdoutStream {
  /** bunyan calls this with one JSON line. Never blocks, never throws. */
  write(line: string): boolean;
  /** Writes what is pending, synchronously (at exit). */
  flushSync(): void;
  /** Lines dropped because the reader did not keep up. */
  dropped(): number;
}

/**
 * bunyan's stdout, written once per event-loop turn instead of once per line: the lines of a turn are joined and
 * written together after it. Measured here (one JSON line per request), a synchronous write per line cost a third of a
 * bare request's time, and sonic-boom's asynchronous writes through libuv's threadpool cost as much again; a
 * write per turn costs about one microsecond a line.
 *
 * A pipe or socket (a container's log driver) is written through a non-blocking handle, in chunks of whole lines of at
 * most {@link ATOMIC_WRITE_BYTES}, one at a time: a reader that stops reading leaves the lines waiting in memory, up to
 * {@link MAX_PENDING_BYTES}, and then drops them, counted, instead of stalling the API. A file or terminal is written
 * synchronously, which cannot stall for long.
 */
export function createStdoutStream(fd = 1): StdoutStream {
  let pending: string[] = [];
  let pendingBytes = 0;
  let scheduled = false;
  let dropped = 0;
  const sink = openSink(fd);

  const flush = (): void => {
    scheduled = false;
    const lines = pending;
    pending = [];
    pendingBytes = 0;
    sink.write(lines);
  };

  return {
    write: (line) => {
      if (pendingBytes + sink.backlog() > MAX_PENDING_BYTES) {
        dropped += 1;
        return true;
      }
      pending.push(line);
      pendingBytes += line.length;
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
      return true;
    },
    flushSync: () => {
      sink.writeSync([...sink.takeBacklog(), ...pending]);
      pending = [];
      pendingBytes = 0;
    },
    dropped: () => dropped + sink.dropped(),
  };
}

interface Sink {
  write(lines: readonly string[]): void;
  /** Bytes accepted but not yet written. */
  backlog(): number;
  /** Lines accepted but not yet written, given up by the sink (to be written synchronously at exit). */
  takeBacklog(): string[];
  writeSync(lines: readonly string[]): void;
  dropped(): number;
}

/** Whole lines grouped into chunks of at most {@link ATOMIC_WRITE_BYTES} (a longer line is a chunk of its own). */
export function chunks(lines: readonly string[]): string[] {
  const result: string[] = [];
  let chunk = '';
  let chunkBytes = 0;
  for (const line of lines) {
    const lineBytes = Buffer.byteLength(line);
    if (chunkBytes > 0 && chunkBytes + lineBytes > ATOMIC_WRITE_BYTES) {
      result.push(chunk);
      chunk = '';
      chunkBytes = 0;
    }
    chunk += line;
    chunkBytes += lineBytes;
  }
  if (chunk.length > 0) result.push(chunk);
  return result;
}

function writeAllSync(fd: number, text: string): void {
  const buffer = Buffer.from(text, 'utf8');
  for (let offset = 0; offset < buffer.length;) {
    try {
      offset += writeSync(fd, buffer, offset);
    } catch (error) {
      // A non-blocking pipe that is full at exit: what is left cannot be written without waiting.
      if ((error as NodeJS.ErrnoException).code === 'EAGAIN') return;
      throw error;
    }
  }
}

function openSink(fd: number): Sink {
  let stat;
  try {
    stat = fstatSync(fd);
  } catch {
    stat = undefined;
  }
  if (stat && (stat.isFIFO() || stat.isSocket())) return pipeSink(fd);
  // A file, /dev/null or a terminal: a synchronous write per turn.
  return {
    write: (lines) => {
      try {
        for (const chunk of chunks(lines)) writeAllSync(fd, chunk);
      } catch {
        // stdout is gone: there is nowhere to write.
      }
    },
    backlog: () => 0,
    takeBacklog: () => [],
    writeSync: (lines) => {
      try {
        for (const chunk of chunks(lines)) writeAllSync(fd, chunk);
      } catch {
        // stdout is gone.
      }
    },
    dropped: () => 0,
  };
}

/**
 * A pipe of our own onto the same pipe, where Linux can give one (a new open file description through /proc), so that
 * making it non-blocking leaves alone whatever else writes to fd 1 (process.stdout would make the shared description
 * blocking again); else fd 1 itself.
 */
function ownDescriptor(fd: number): number {
  try {
    return openSync(`/proc/self/fd/${fd}`, 'w');
  } catch {
    return fd;
  }
}

/** A pipe or socket, through a non-blocking libuv handle, one chunk in flight at a time. */
function pipeSink(stdoutFd: number): Sink {
  const fd = ownDescriptor(stdoutFd);
  const socket = new net.Socket({ fd, readable: false, writable: true });
  socket.on('error', () => undefined);
  const queue: string[] = [];
  let queuedBytes = 0;
  let writing = false;
  let dropped = 0;
  let broken = false;
  socket.once('close', () => (broken = true));

  const next = (): void => {
    const chunk = queue.shift();
    if (chunk === undefined || broken) {
      writing = false;
      return;
    }
    writing = true;
    socket.write(chunk, (error) => {
      queuedBytes -= chunk.length;
      if (error) {
        broken = true;
        dropped += chunk.split('\n').length - 1;
      }
      next();
    });
  };

  return {
    write: (lines) => {
      if (broken) {
        dropped += lines.length;
        return;
      }
      for (const chunk of chunks(lines)) {
        queue.push(chunk);
        queuedBytes += chunk.length;
      }
      if (!writing) next();
    },
    backlog: () => queuedBytes,
    takeBacklog: () => {
      const left = queue.splice(0);
      queuedBytes = 0;
      return left;
    },
    writeSync: (lines) => {
      if (broken) return;
      for (const chunk of chunks(lines)) writeAllSync(fd, chunk);
    },
    dropped: () => dropped,
  };
}
