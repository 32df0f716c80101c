import type Router from '@koa/router';
import { parse } from 'yaml';
import type { AppState } from '../state.js';
import { DOCS_HEADERS, helmetHeaders } from '../middleware/security-headers.js';
import { notFound } from '../http-error.js';

export interface DocsRoutesDependencies {
  readonly docs: {
    /** docs/openapi.yaml as written. */
    readonly openapiYaml: string;
    /** Swagger UI's files by name (swagger-ui.css, swagger-ui-bundle.js, favicon-32x32.png). */
    readonly assets: ReadonlyMap<string, { readonly contentType: string; readonly body: Buffer }>;
  };
}

/** The page: Swagger UI's files and the script that starts it, all from this service (no inline script, no CDN). */
const PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>jwt-login API</title>
    <link rel="stylesheet" href="/api/docs/swagger-ui.css">
    <link rel="icon" type="image/png" href="/api/docs/favicon-32x32.png">
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="/api/docs/swagger-ui-bundle.js"></script>
    <script src="/api/docs/init.js"></script>
  </body>
</html>
`;

const INIT = `window.ui = SwaggerUIBundle({
  url: '/api/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  tryItOutEnabled: false,
});
`;

const ONE_DAY = 'public, max-age=86400';

/**
 * Adds the API's documentation: `GET /api/openapi.json` and `/api/openapi.yaml` (docs/openapi.yaml), and `GET /api/docs`,
 * a Swagger UI page. Only the page and its files get a CSP that lets them run (scripts, styles and images from this
 * origin); every other answer keeps `default-src 'none'`.
 */
export function docsRoutes(router: Router<AppState>, deps: DocsRoutesDependencies): void {
  const document: unknown = parse(deps.docs.openapiYaml);
  const json = Buffer.from(JSON.stringify(document));
  const pageHeaders = helmetHeaders(DOCS_HEADERS);
  const files = new Map(deps.docs.assets);
  files.set('init.js', { contentType: 'text/javascript; charset=utf-8', body: Buffer.from(INIT) });

  router.get('/api/openapi.json', (ctx) => {
    ctx.type = 'application/json';
    ctx.body = json;
  });

  router.get('/api/openapi.yaml', (ctx) => {
    ctx.type = 'application/yaml; charset=utf-8';
    ctx.body = deps.docs.openapiYaml;
  });

  router.get('/api/docs', (ctx) => {
    for (const [name, value] of pageHeaders) ctx.set(name, value);
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = PAGE;
  });

  router.get('/api/docs/:file', (ctx) => {
    const file = files.get(ctx.params.file ?? '');
    if (file === undefined) throw notFound();
    for (const [name, value] of pageHeaders) ctx.set(name, value);
    ctx.set('Cache-Control', ONE_DAY);
    ctx.type = file.contentType;
    ctx.body = file.body;
  });
}
