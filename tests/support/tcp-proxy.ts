import { once } from 'node:events';
import net from 'node:net';

/**
 * A TCP proxy between the app and PostgreSQL that the test switches:
 * - `forward`: pipes both ways;
 * - `blackhole`: accepts new connections and never answers them (a PostgreSQL whose listen backlog still takes
 *   connections while the server is hung);
 * - `freeze()`: additionally stops relaying on the connections already open (a frozen PostgreSQL or a partition that
 *   drops packets: the pool's sockets stay open and nothing comes back).
 * `stop()` closes the listener and resets every connection (PostgreSQL stopped); `start()` listens again on the same port.
 */
export class TcpProxy {
  port = 0;
  mode: 'forward' | 'blackhole' = 'forward';
  /** Latency added to each chunk, each way, on connections made from now on. */
  delayMs = 0;
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  private readonly pairs = new Set<{ client: net.Socket; upstream: net.Socket }>();

  constructor(private readonly target: { host: string; port: number }) {}

  get listening(): boolean {
    return this.server !== undefined;
  }

  /**
   * Listens on the proxy's port, picked the first time below the ephemeral range (32768-60999 on Linux): during an
   * outage the app keeps connecting to a closed port, and a connect whose ephemeral source port equals that port
   * connects to itself and takes the port.
   */
  async start(mode: 'forward' | 'blackhole' = 'forward'): Promise<number> {
    this.mode = mode;
    for (let attempt = 0; ; attempt += 1) {
      const port = this.port || 20_000 + Math.floor(Math.random() * 12_000);
      const server = net.createServer((client) => this.accept(client));
      try {
        server.listen(port, '127.0.0.1');
        await once(server, 'listening');
      } catch (error) {
        if (this.port !== 0 || attempt >= 20) throw error;
        continue;
      }
      this.server = server;
      this.port = port;
      return port;
    }
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    const closed = server ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
    for (const socket of this.sockets) socket.destroy();
    this.pairs.clear();
    await closed;
  }

  /** Stops taking new connections (they are refused) and keeps relaying on the open ones; `start()` undoes it. */
  async refuseNew(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    // close() stops listening at once (the port is free again); its callback waits for the open connections, which
    // stay.
    server?.close();
    await Promise.resolve();
  }

  /** New connections are black-holed and the open ones stop relaying, in both directions. */
  freeze(): void {
    this.mode = 'blackhole';
    for (const { client, upstream } of this.pairs) {
      client.unpipe(upstream);
      upstream.unpipe(client);
      client.pause();
      upstream.pause();
    }
    this.pairs.clear();
  }

  /** URI of `uri`'s database through this proxy. */
  uriFor(uri: string): string {
    const url = new URL(uri);
    url.hostname = '127.0.0.1';
    url.port = String(this.port);
    return url.toString();
  }

  private track(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  }

  private accept(client: net.Socket): void {
    this.track(client);
    if (this.mode === 'blackhole') {
      client.pause();
      return;
    }
    const upstream = net.connect(this.target);
    this.track(upstream);
    const pair = { client, upstream };
    this.pairs.add(pair);
    client.on('close', () => {
      upstream.destroy();
      this.pairs.delete(pair);
    });
    upstream.on('close', () => {
      client.destroy();
      this.pairs.delete(pair);
    });
    if (this.delayMs > 0) {
      relayLater(client, upstream, this.delayMs);
      relayLater(upstream, client, this.delayMs);
    } else {
      client.pipe(upstream);
      upstream.pipe(client);
    }
  }
}

/** Relays what `from` sends to `to`, each chunk `delayMs` later, in order: a link with that much latency each way. */
function relayLater(from: net.Socket, to: net.Socket, delayMs: number): void {
  from.on('data', (chunk: Buffer) => {
    setTimeout(() => {
      if (!to.destroyed) to.write(chunk);
    }, delayMs);
  });
}
