import type { RequestContext } from '../../application/ports/logger.js';
import type { Principal } from '../../application/use-cases/verify-access-token.js';

/** What middleware leaves on `ctx.state` for later middleware and routes. */
export interface AppState {
  requestId: string;
  /** The client's canonical address, once asked for (client-address.ts). */
  client?: string;
  /** The request as log lines name it, once asked for (request-context.ts). */
  logContext?: RequestContext;
  /** Set once an access token has been checked. */
  principal?: Principal;
  /** True when the request carried a token, so a 401 says `error="invalid_token"` (RFC 6750). */
  tokenPresented?: boolean;
}
