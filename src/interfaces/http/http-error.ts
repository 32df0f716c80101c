/**
 * An error answer: the status, flask-praetorian's error name and message, and any headers it needs
 * (`Retry-After`, `WWW-Authenticate`, `Allow`).
 */
export class HttpError extends Error {
  override readonly name = 'HttpError';

  constructor(
    readonly status: number,
    readonly error: string,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

export const MISSING_TOKEN_MESSAGE = "JWT token not found in headers under 'Authorization'";

export const missingToken = () => new HttpError(401, 'MissingToken', MISSING_TOKEN_MESSAGE);
export const notFound = () => new HttpError(404, 'NotFound', 'The requested URL was not found on the server');
export const methodNotAllowed = () =>
  new HttpError(405, 'MethodNotAllowed', 'The method is not allowed for the requested URL');
export const validationError = (message: string) => new HttpError(400, 'ValidationError', message);
export const serviceUnavailable = (retryAfterSeconds: number) =>
  new HttpError(503, 'ServiceUnavailable', 'The service is temporarily unavailable; try again shortly', {
    'Retry-After': String(retryAfterSeconds),
  });
export const internalError = () =>
  new HttpError(500, 'InternalServerError', 'The server encountered an internal error');
