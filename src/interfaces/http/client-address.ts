import type { Context } from 'koa';
import ipaddr from 'ipaddr.js';
import type { AppState } from './state.js';

/**
 * The client's address in one canonical form, whatever the socket says: an IPv4 client of a dual-stack listener
 * (`HOST=::`) appears as `::ffff:127.0.0.40`, and is `127.0.0.40` here, as it is to an IPv4-only instance sharing the
 * same database; IPv6 in its shortest form. Limits, logs and sessions all use this, so their keys agree.
 */
export function canonicalAddress(raw: string): string {
  if (!ipaddr.isValid(raw)) return raw;
  return ipaddr.process(raw).toString();
}

/** A connection's canonical peer address, worked out once for all the requests it carries (keep-alive). */
const peers = new WeakMap<object, string>();

/** {@link canonicalAddress} of the request's client (`ctx.ip`: the socket, or X-Forwarded-For behind TRUST_PROXY). */
export function clientAddress(ctx: Context & { state: AppState }): string {
  if (ctx.state.client !== undefined) return ctx.state.client;
  if (ctx.app.proxy) {
    ctx.state.client = canonicalAddress(ctx.ip);
  } else {
    const socket = ctx.req.socket;
    let address = peers.get(socket);
    if (address === undefined) {
      address = canonicalAddress(ctx.ip);
      peers.set(socket, address);
    }
    ctx.state.client = address;
  }
  return ctx.state.client;
}
