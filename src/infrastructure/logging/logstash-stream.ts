import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import type bunyan from 'bunyan';

/** Counters and state of a {@link LogstashStream}, for reporting lost lines. */
export interface LogstashStats {
  /** Lines the socket has handed to the kernel. */
  readonly shipped: number;
  /**
   * Lines lost: over a byte cap, unserializable, pending in a socket that failed, or still queued at `close()`.
   * Lines the kernel had accepted before a connection broke are lost without being counted (TCP has no acks here).
   */
  readonly dropped: number;
  /** Whether a connection to Logstash is open and writable now. */
  readonly connected: boolean;
  /** Bytes waiting for a connection or for room in the socket (at most `maxQueuedBytes`). */
  readonly queuedBytes: number;
  /** Bytes written to the socket but not yet accepted by the kernel (at most `maxBufferedBytes`). */
  readonly bufferedBytes: number;
  /** Connection errors so far (refused, reset, unknown host...); each is followed by a reconnect. */
  readonly connectionErrors: number;
}

export interface LogstashStreamOptions {
  host: string;
  port: number;
  /** Cap on the bytes queued while disconnected or while the socket is full. Default 1 MiB. */
  maxQueuedBytes?: number;
  /** Cap on the bytes buffered in the socket when the peer does not read. Default 1 MiB. */
  maxBufferedBytes?: number;
  /** First reconnect delay; it doubles after each failed attempt up to `maxRetryIntervalMs`. Default 250 ms. */
  retryIntervalMs?: number;
  /** Default 5000 ms. */
  maxRetryIntervalMs?: number;
  /** How long `close()` waits for queued lines to reach Logstash before dropping them. Default 1000 ms. */
  closeTimeoutMs?: number;
  /** The application part of the `source` field (`<hostname>/<appName>`). Default `process.title`. */
  appName?: string;
  /** Default `['bunyan']`. */
  tags?: readonly string[];
}

/**
 * A bunyan stream shipping records to a Logstash TCP input (json_lines codec), one JSON object per line, in the
 * format of bunyan-logstash-tcp: `message`, `@timestamp`, `level` as a name, `tags`, `source`, and the other record
 * fields as they are. Writing never throws, blocks or waits for Logstash.
 */
export interface LogstashStream {
  /** An entry for the `streams` option of `bunyan.createLogger`; add a `level` to filter. */
  readonly stream: bunyan.Stream & { readonly type: 'raw'; readonly stream: bunyan.WriteFn };
  stats(): LogstashStats;
  /** Stops reconnecting, gives queued lines up to `closeTimeoutMs` to leave, then closes the socket. */
  close(): Promise<void>;
}

/**
 * The parts of bunyan-logstash-tcp's `LogstashStream` used here. It has no type declarations and no way to stop it,
 * so its instance methods are replaced (see {@link SafeLogstashStream}).
 */
interface LibraryStream {
  connected: boolean;
  socket: Socket | null;
  retries: number;
  retry_interval: number;
  max_connect_retries: number;
  write(record: object | string): void;
  send(message: string): void;
  flush(): void;
  connect(): void;
  on(event: 'error', listener: (error: Error) => void): this;
  on(event: 'connect', listener: () => void): this;
}

interface LibraryModule {
  createStream(options: {
    host: string;
    port: number;
    max_connect_retries: number;
    retry_interval: number;
    appName?: string;
    tags?: string[];
  }): LibraryStream;
}

const library = createRequire(import.meta.url)('bunyan-logstash-tcp') as LibraryModule;

const MiB = 1024 * 1024;
const KEEPALIVE_DELAY_MS = 10_000;

/**
 * @throws RangeError for a port outside 1..65535 or a non-positive cap (the library would silently turn port 0
 *   into 9999).
 */
export function createLogstashStream(options: LogstashStreamOptions): LogstashStream {
  const shipper = new SafeLogstashStream(options);
  const writer: bunyan.WriteFn = { write: (record) => shipper.write(record) };
  return {
    stream: { type: 'raw', stream: writer, closeOnExit: false },
    stats: () => shipper.stats(),
    close: () => shipper.close(),
  };
}

/**
 * Keeps bunyan-logstash-tcp's record format, socket setup and reconnect scheduling, and replaces what is unsafe in it:
 * - its 'error' event has no listener, so a refused or reset connection is an uncaught exception: one is added;
 * - it gives up after `max_connect_retries` (4) failed connects and then queues forever without sending: retries are
 *   unlimited and the fixed `retry_interval` becomes a capped exponential backoff, reset on each connect;
 * - it writes to the socket ignoring backpressure, so a peer that does not read makes the socket buffer grow without
 *   bound: `sendLog` is never used, lines go through a byte-capped queue into the socket only while
 *   `socket.writableLength` stays under a cap;
 * - its offline queue is a 10-entry ring that overwrites silently and is flushed newest first: replaced by the same
 *   byte-capped FIFO queue, which counts what it drops;
 * - `write` throws into bunyan (hence the caller) on an unserializable record such as one holding a BigInt: caught and
 *   counted as dropped;
 * - it has no way to stop: `close()` disables `connect` and sets `max_connect_retries` to 0.
 */
class SafeLogstashStream {
  private readonly library: LibraryStream;
  private readonly maxQueuedBytes: number;
  private readonly maxBufferedBytes: number;
  private readonly retryIntervalMs: number;
  private readonly maxRetryIntervalMs: number;
  private readonly closeTimeoutMs: number;

  /** FIFO of encoded lines; `head` is the index of the oldest one, so dequeuing is O(1). */
  private queue: (Buffer | undefined)[] = [];
  private head = 0;
  private queuedBytes = 0;

  private shipped = 0;
  private dropped = 0;
  private connectionErrors = 0;
  private closing: Promise<void> | undefined;

  constructor(options: LogstashStreamOptions) {
    const { host, port } = options;
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new RangeError(`Logstash port must be an integer in 1..65535, got ${String(port)}`);
    }
    if (typeof host !== 'string' || host === '') {
      throw new RangeError('Logstash host must be a non-empty string');
    }
    this.maxQueuedBytes = positive('maxQueuedBytes', options.maxQueuedBytes ?? MiB);
    this.maxBufferedBytes = positive('maxBufferedBytes', options.maxBufferedBytes ?? MiB);
    this.retryIntervalMs = positive('retryIntervalMs', options.retryIntervalMs ?? 250);
    this.maxRetryIntervalMs = Math.max(this.retryIntervalMs, options.maxRetryIntervalMs ?? 5000);
    this.closeTimeoutMs = options.closeTimeoutMs ?? 1000;

    const lib = library.createStream({
      host,
      port,
      max_connect_retries: -1,
      retry_interval: this.retryIntervalMs,
      ...(options.appName === undefined ? {} : { appName: options.appName }),
      ...(options.tags === undefined ? {} : { tags: [...options.tags] }),
    });
    this.library = lib;
    // The constructor has already started connecting; its socket reports errors asynchronously, so this is in time.
    lib.on('error', () => {
      this.connectionErrors += 1;
    });
    lib.on('connect', () => {
      lib.retry_interval = this.retryIntervalMs;
    });
    lib.send = (message) => this.enqueue(message);
    lib.flush = () => this.pump();
    const connect = lib.connect.bind(lib);
    lib.connect = () => {
      if (this.closing !== undefined) return;
      connect();
      lib.retry_interval = Math.min(this.retryIntervalMs * 2 ** Math.min(lib.retries, 30), this.maxRetryIntervalMs);
      lib.socket?.setKeepAlive(true, KEEPALIVE_DELAY_MS);
    };
    lib.socket?.setKeepAlive(true, KEEPALIVE_DELAY_MS);
  }

  write(record: object | string): void {
    try {
      this.library.write(record);
    } catch {
      this.dropped += 1;
    }
  }

  stats(): LogstashStats {
    return {
      shipped: this.shipped,
      dropped: this.dropped,
      connected: this.writableSocket() !== undefined,
      queuedBytes: this.queuedBytes,
      bufferedBytes: this.library.socket?.writableLength ?? 0,
      connectionErrors: this.connectionErrors,
    };
  }

  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    const lib = this.library;
    lib.max_connect_retries = 0;
    const socket = lib.socket;
    if (socket !== null && !socket.destroyed) {
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      if (this.writableSocket() === socket) {
        for (let line = this.dequeue(); line !== undefined; line = this.dequeue()) this.writeLine(socket, line);
        socket.end();
        const timer = setTimeout(() => socket.destroy(), this.closeTimeoutMs);
        await closed;
        clearTimeout(timer);
      } else {
        socket.destroy();
        await closed;
      }
    }
    for (let line = this.dequeue(); line !== undefined; line = this.dequeue()) this.dropped += 1;
  }

  private enqueue(message: string): void {
    const line = Buffer.from(`${message}\n`, 'utf8');
    if (
      this.closing !== undefined ||
      line.length > this.maxBufferedBytes ||
      this.queuedBytes + line.length > this.maxQueuedBytes
    ) {
      this.dropped += 1;
      return;
    }
    this.queue.push(line);
    this.queuedBytes += line.length;
    this.pump();
  }

  /** Moves queued lines into the socket while it is connected and its buffer stays under `maxBufferedBytes`. */
  private pump(): void {
    const socket = this.writableSocket();
    if (socket === undefined) return;
    for (let line = this.queue[this.head]; line !== undefined; line = this.queue[this.head]) {
      if (socket.writableLength + line.length > this.maxBufferedBytes) return;
      this.dequeue();
      this.writeLine(socket, line);
    }
  }

  private writeLine(socket: Socket, line: Buffer): void {
    socket.write(line, (error) => {
      if (error) this.dropped += 1;
      else this.shipped += 1;
      if (this.queuedBytes > 0 && this.closing === undefined) this.pump();
    });
  }

  private dequeue(): Buffer | undefined {
    const line = this.queue[this.head];
    if (line === undefined) return undefined;
    this.queue[this.head] = undefined;
    this.head += 1;
    this.queuedBytes -= line.length;
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return line;
  }

  /** The socket when the library has announced the connection and it still accepts writes (not ended by the peer). */
  private writableSocket(): Socket | undefined {
    const { connected, socket } = this.library;
    return connected && socket !== null && socket.writable ? socket : undefined;
  }
}

function positive(name: string, value: number): number {
  if (!(value > 0)) throw new RangeError(`${name} must be positive, got ${String(value)}`);
  return value;
}
