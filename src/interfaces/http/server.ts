import { randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Logger } from '../../application/ports/logger.js';
import { canonicalAddress } from './client-address.js';

export interface HttpServerOptions {
  /** A request whose headers have not all arrived by then is answered 408 and its connection closed. */
  readonly headersTimeoutMs: number;
  /** A request not fully received by then is answered 408. */
  readonly requestTimeoutMs: number;
  /** Connections open at once; past it, a new one is answered 503 and closed (descriptors are finite). */
  readonly maxConnections: number;
  /**
   * Connections open at once from one client address; past it, a new one is answered 429 and closed, so one client
   * cannot take every descriptor. Undefined behind a trusted proxy, whose address every client shares.
   */
  readonly maxConnectionsPerClient: number | undefined;
  /** Headers every answer carries (the security headers), answers written here included. */
  readonly headers: readonly (readonly [string, string])[];
  readonly logger: Logger;
}

export interface HttpServer {
  readonly server: http.Server;
  listen(port: number, host: string): Promise<AddressInfo>;
  /**
   * Stops taking connections; closes at once the ones with no request in progress (idle, or a request still being
   * sent); lets the requests in progress finish, answered with `Connection: close`, for up to `drainMs`; then closes
   * whatever is left. Calling it again returns the same promise.
   */
  stop(drainMs: number): Promise<void>;
}

/** How often Node checks the headers and request timeouts (its default, 30 s, lets a slow client hold on 30 s more). */
const TIMEOUT_CHECK_INTERVAL_MS = 1000;

interface Connection {
  readonly client: string;
  /** Requests received on it (their headers at least) and not yet answered. */
  readonly requests: Set<IncomingMessage>;
}

/** In progress: a request fully received and not yet answered (one still being sent counts as nothing). */
const inProgress = (connection: Connection) => [...connection.requests].some((request) => request.complete);

/** The flask-praetorian error body, written by hand where no Koa context exists (a connection, a parse error). */
function errorAnswer(
  status: number,
  error: string,
  message: string,
  headers: readonly (readonly [string, string])[],
  extra: Record<string, string> = {},
): string {
  const requestId = randomUUID();
  const body = JSON.stringify({ status_code: status, error, message, request_id: requestId });
  const lines = [
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? 'Error'}`,
    ...headers.map(([name, value]) => `${name}: ${value}`),
    `X-Request-Id: ${requestId}`,
    ...Object.entries(extra).map(([name, value]) => `${name}: ${value}`),
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
  ];
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

/** What a parser-level refusal is, in the service's error shape. */
function clientErrorAnswer(error: NodeJS.ErrnoException): [number, string, string] {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return [431, 'RequestHeaderFieldsTooLarge', 'The request headers are larger than the server accepts'];
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return [408, 'RequestTimeout', 'The request was not received in time'];
    default:
      return [400, 'BadRequest', 'The request could not be understood'];
  }
}

/**
 * The HTTP server around the Koa app: caps connections per client address and in total, times out slow headers,
 * answers parser-level refusals (400, 408, 417, 431) in the service's JSON error shape with its security headers, and
 * stops without being held hostage by idle or half-sent connections.
 */
export function createHttpServer(handler: RequestListener, options: HttpServerOptions): HttpServer {
  const server = http.createServer({
    headersTimeout: options.headersTimeoutMs,
    requestTimeout: options.requestTimeoutMs,
    connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS,
  });
  const connections = new Map<Socket, Connection>();
  const perClient = new Map<string, number>();
  let stopping: Promise<void> | undefined;
  /** Set once the stop has taken in what had arrived: from then on a new connection is closed at once. */
  let closing = false;

  const release = (socket: Socket, connection: Connection) => {
    if (!connections.delete(socket)) return;
    const count = (perClient.get(connection.client) ?? 1) - 1;
    if (count > 0) perClient.set(connection.client, count);
    else perClient.delete(connection.client);
  };

  server.on('connection', (socket: Socket) => {
    const client = canonicalAddress(socket.remoteAddress ?? '');
    if (closing) {
      socket.destroy();
      return;
    }
    const fromClient = perClient.get(client) ?? 0;
    let refusal: string | undefined;
    if (connections.size >= options.maxConnections) {
      refusal = errorAnswer(
        503,
        'ServiceUnavailable',
        'The server has too many connections open; try again shortly',
        options.headers,
        {
          'Retry-After': '1',
        },
      );
    } else if (options.maxConnectionsPerClient !== undefined && fromClient >= options.maxConnectionsPerClient) {
      refusal = errorAnswer(429, 'TooManyRequests', 'Too many connections from this address', options.headers, {
        'Retry-After': '1',
      });
    }
    if (refusal !== undefined) {
      socket.on('error', () => undefined);
      // Closed as soon as the answer is handed to the kernel: a refused client must not hold a descriptor, whether it
      // reads its answer or not (with unread request bytes the close may reach it as a reset).
      socket.write(refusal, () => socket.destroy());
      return;
    }
    const connection: Connection = { client, requests: new Set() };
    connections.set(socket, connection);
    perClient.set(client, fromClient + 1);
    socket.once('close', () => release(socket, connection));
  });

  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const connection = connections.get(request.socket);
    connection?.requests.add(request);
    if (stopping !== undefined) response.setHeader('Connection', 'close');
    response.once('close', () => {
      if (!connection) return;
      connection.requests.delete(request);
      if (stopping !== undefined && connection.requests.size === 0) request.socket.destroySoon();
    });
    handler(request, response);
  });

  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const [status, name, message] = clientErrorAnswer(error);
    socket.end(errorAnswer(status, name, message, options.headers));
  });

  server.on('checkExpectation', (_request: IncomingMessage, response: ServerResponse) => {
    const body = errorAnswer(417, 'ExpectationFailed', 'Only Expect: 100-continue is supported', options.headers);
    response.socket?.end(body);
  });

  const stop = async (drainMs: number): Promise<void> => {
    // What had arrived when the stop began is taken in first: connections waiting in the listen backlog are accepted
    // on the event loop's next turn, and the requests already sent on them are read on the turn after. Closing before
    // that would reset requests the clients have already sent.
    for (let turn = 0; turn < 2; turn += 1) await new Promise((resolveTurn) => setImmediate(resolveTurn));
    closing = true;
    const closed = new Promise<void>((resolveClosed) => server.close(() => resolveClosed()));
    // Idle connections, and requests still being sent (headers or body), have nothing in progress: closed at once.
    for (const [socket, connection] of connections) if (!inProgress(connection)) socket.destroy();
    let drained = false;
    const deadline = new Promise<void>((resolveDeadline) => setTimeout(resolveDeadline, drainMs).unref());
    await Promise.race([closed.then(() => (drained = true)), deadline]);
    if (!drained) {
      options.logger.warn('drain deadline passed: cutting the connections left', {
        event: 'drain_deadline',
        connections: connections.size,
      });
    }
    for (const socket of connections.keys()) socket.destroy();
    await closed;
    options.logger.info('http server closed', { event: 'http_closed' });
  };

  return {
    server,
    listen: (port, host) =>
      new Promise((resolveListening, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolveListening(server.address() as AddressInfo);
        });
      }),
    stop: (drainMs) => (stopping ??= stop(drainMs)),
  };
}
