import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The files of Swagger UI the docs page loads, from the swagger-ui-dist package, with their content types. */
const SWAGGER_UI_FILES: Readonly<Record<string, string>> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
};

/** A file served as it is. */
export interface StaticFile {
  readonly contentType: string;
  readonly body: Buffer;
}

/** What the docs routes serve: the OpenAPI document as written, and Swagger UI's files by name. */
export interface ApiDocsFiles {
  readonly openapiYaml: string;
  readonly assets: ReadonlyMap<string, StaticFile>;
}

/**
 * `docs/openapi.yaml` (beside `src/` and `dist/`, so found from either; the Docker image copies it) and Swagger UI's
 * files from its npm package, read once at start: no CDN, nothing fetched at run time.
 * @throws when a file is missing (a broken install or image).
 */
export function loadApiDocsFiles(): ApiDocsFiles {
  const root = fileURLToPath(new URL('../../../', import.meta.url));
  const openapiYaml = readFileSync(join(root, 'docs', 'openapi.yaml'), 'utf8');
  const swaggerUi = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  const assets = new Map<string, StaticFile>();
  for (const [name, contentType] of Object.entries(SWAGGER_UI_FILES)) {
    assets.set(name, { contentType, body: readFileSync(join(swaggerUi, name)) });
  }
  return { openapiYaml, assets };
}
