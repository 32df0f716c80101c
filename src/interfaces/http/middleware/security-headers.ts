import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet, { type HelmetOptions } from 'helmet';
import type { Middleware } from 'koa';
import type { AppState } from '../state.js';

/**
 * helmet's headers, tightened for a JSON API that no page should frame or load: CSP `default-src 'none'` with
 * `frame-ancestors 'none'`, X-Frame-Options DENY, nosniff, no referrer, HSTS, CORP same-origin. helmet's headers that
 * only act on an HTML document a browser renders (COOP, Origin-Agent-Cluster, X-DNS-Prefetch-Control,
 * X-Download-Options, X-Permitted-Cross-Domain-Policies, X-XSS-Protection) are left off API answers, as OWASP's REST
 * Security Cheat Sheet advises: they protect nothing on a JSON body, and every header costs every answer its
 * validation and its bytes. The docs page, which is a document, gets them all ({@link DOCS_HEADERS}).
 */
export const API_HEADERS: HelmetOptions = {
  contentSecurityPolicy: {
    useDefaults: false,
    directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
  },
  frameguard: { action: 'deny' },
  referrerPolicy: { policy: 'no-referrer' },
  crossOriginResourcePolicy: { policy: 'same-origin' },
  crossOriginOpenerPolicy: false,
  originAgentCluster: false,
  xDnsPrefetchControl: false,
  xDownloadOptions: false,
  xPermittedCrossDomainPolicies: false,
  xXssProtection: false,
};

/**
 * The API's headers, with a CSP that lets the docs page (Swagger UI) run: its scripts, styles and images from this
 * origin only (no inline script, no CDN), its requests to this origin; still no framing, no base or form targets.
 */
export const DOCS_HEADERS: HelmetOptions = {
  ...API_HEADERS,
  crossOriginOpenerPolicy: true,
  originAgentCluster: true,
  xDnsPrefetchControl: true,
  xDownloadOptions: true,
  xPermittedCrossDomainPolicies: true,
  xXssProtection: true,
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'none'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'", 'data:'],
      connectSrc: ["'self'"],
      baseUri: ["'none'"],
      formAction: ["'none'"],
      frameAncestors: ["'none'"],
    },
  },
};

/**
 * The headers helmet sets for `options`, worked out once. helmet derives the same static headers for every request,
 * so asking it once at start and setting its answer costs a fraction of running it per request (a third of a bare
 * request's time, measured), with helmet still the one that decides what they are.
 */
export function helmetHeaders(options: HelmetOptions): readonly (readonly [string, string])[] {
  const headers = new Map<string, string>();
  const response = {
    setHeader: (name: string, value: string | number | readonly string[]) => {
      headers.set(name, Array.isArray(value) ? value.join(', ') : String(value));
    },
    removeHeader: (name: string) => headers.delete(name),
    getHeader: (name: string) => headers.get(name),
  } as unknown as ServerResponse;
  let failure: unknown;
  helmet(options)({ headers: {} } as IncomingMessage, response, (error?: unknown) => (failure = error));
  if (failure !== undefined) throw failure instanceof Error ? failure : new Error('helmet refused its options');
  return [...headers];
}

/** Sets helmet's headers for `options` (API defaults when omitted) on every answer. */
export function securityHeaders(options: HelmetOptions = API_HEADERS): Middleware<AppState> {
  const headers = helmetHeaders(options);
  return (ctx, next) => {
    for (const [name, value] of headers) ctx.res.setHeader(name, value);
    return next();
  };
}
