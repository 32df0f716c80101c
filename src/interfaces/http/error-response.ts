import type { DomainError } from '../../domain/errors.js';
import type { Result } from '../../domain/result.js';
import { HttpError } from './http-error.js';

/** Python's repr of a list of strings, as flask-praetorian formats role lists in its messages. */
const pythonList = (items: readonly string[]) => `[${items.map((item) => `'${item}'`).join(', ')}]`;

/** The one place business errors become HTTP answers. */
export function domainErrorToHttp(error: DomainError): HttpError {
  switch (error.code) {
    case 'InvalidInput':
      return new HttpError(400, 'ValidationError', error.message);
    case 'InvalidCredentials':
      return new HttpError(401, 'AuthenticationError', 'The username and/or password are incorrect');
    case 'UserExists':
      return new HttpError(409, 'UserExistsError', 'The username is already taken');
    case 'InactiveUser':
      return new HttpError(403, 'InvalidUserError', 'The user is not valid or has had access revoked');
    case 'InvalidToken':
      return new HttpError(
        401,
        'InvalidTokenHeader',
        'The token is not a valid access token (malformed, forged, wrong algorithm or wrong type)',
      );
    case 'ExpiredAccess':
      return new HttpError(401, 'ExpiredAccessError', 'access permission has expired');
    case 'ExpiredRefresh':
      return new HttpError(401, 'ExpiredRefreshError', 'refresh permission for token has expired');
    case 'EarlyRefresh':
      return new HttpError(425, 'EarlyRefreshError', 'access permission for token has not expired. may not refresh');
    case 'InvalidRefreshToken':
      return new HttpError(401, 'InvalidRefreshToken', 'The refresh token is not valid, or has been used or revoked');
    case 'RevokedToken':
      return new HttpError(403, 'BlacklistedError', 'Token has a blacklisted jti');
    case 'MissingRoles':
      return new HttpError(
        403,
        'MissingRoleError',
        `This endpoint requires ${error.mode === 'all' ? 'all' : 'one of'} the following roles: ${pythonList(error.roles)}`,
      );
    case 'TooManyRequests':
      return new HttpError(429, 'TooManyRequests', 'Too many attempts; try again later', {
        'Retry-After': String(error.retryAfterSeconds),
      });
    case 'UserNotFound':
      return new HttpError(404, 'NotFound', 'No user has this id');
    case 'EmailTaken':
      return new HttpError(409, 'UserExistsError', 'The email address is already taken');
    case 'InvalidAccountToken':
      return new HttpError(401, 'InvalidTokenHeader', 'The link is not valid: it is unknown, used or expired');
    case 'RegistrationClosed':
      return new HttpError(403, 'RegistrationClosed', 'Registration is closed; ask an administrator for an account');
    case 'SessionNotFound':
      return new HttpError(404, 'NotFound', 'You have no session with this id');
    default: {
      const unmapped: never = error;
      throw new Error(`unmapped domain error ${JSON.stringify(unmapped)}`);
    }
  }
}

/** The value of a use case's result, or its error thrown as the HTTP answer it maps to. */
export function unwrap<T>(result: Result<T, DomainError>): T {
  if (!result.ok) throw domainErrorToHttp(result.error);
  return result.value;
}
