import { once } from 'node:events';
import net from 'node:net';

/**
 * A stand-in for a Logstash TCP input with the json_lines codec on 127.0.0.1: keeps every line it reads.
 * `onConnection` sees each accepted socket, e.g. to pause it and play a Logstash that accepts but never reads.
 */
export class FakeLogstash {
  readonly lines: Record<string, unknown>[] = [];
  readonly sockets = new Set<net.Socket>();
  private readonly server: net.Server;

  constructor(private readonly onConnection: (socket: net.Socket) => void = () => undefined) {
    this.server = net.createServer((socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => undefined);
      let pending = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => {
        pending += chunk;
        const complete = pending.split('\n');
        pending = complete.pop() ?? '';
        for (const line of complete) this.lines.push(JSON.parse(line) as Record<string, unknown>);
      });
      this.onConnection(socket);
    });
  }

  get connections(): number {
    return this.sockets.size;
  }

  async listen(port = 0): Promise<number> {
    this.server.listen(port, '127.0.0.1');
    await once(this.server, 'listening');
    return (this.server.address() as net.AddressInfo).port;
  }

  /** Resets every connection and stops listening, as a crashing Logstash would. */
  async kill(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    if (this.server.listening) await new Promise((resolve) => this.server.close(resolve));
  }

  messages(): unknown[] {
    return this.lines.map((line) => line.message);
  }

  requestIds(): Set<unknown> {
    return new Set(this.lines.map((line) => line['trace.id']));
  }
}

/** A port nothing listens on right now (briefly bound, then released). */
export async function unusedPort(): Promise<number> {
  const probe = new FakeLogstash();
  const port = await probe.listen();
  await probe.kill();
  return port;
}

/** Polls `condition` every 10 ms; throws naming `what` after `timeoutMs`. */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 4000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
