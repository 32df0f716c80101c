import type Router from '@koa/router';
import type { Context } from 'koa';
import type { ListUsers } from '../../../application/use-cases/list-users.js';
import type { UpdateUser } from '../../../application/use-cases/update-user.js';
import type { VerifyAccessToken } from '../../../application/use-cases/verify-access-token.js';
import type { User } from '../../../domain/user.js';
import type { AppState } from '../state.js';
import { requireAuth } from '../middleware/require-auth.js';
import { requireRoles } from '../middleware/require-roles.js';
import { jsonObjectBody } from '../middleware/body-parser.js';
import { domainErrorToHttp } from '../error-response.js';
import { notFound, validationError } from '../http-error.js';

export interface AdminRoutesDependencies {
  readonly verifyAccessToken: VerifyAccessToken;
  readonly listUsers: ListUsers;
  readonly updateUser: UpdateUser;
}

const DEFAULT_PAGE_SIZE = 20;

const userJson = (user: Omit<User, 'passwordHash'>) => ({
  id: user.id,
  username: user.username,
  roles: user.roles,
  is_active: user.isActive,
});

/** A whole number from the query string, the default when absent, NaN (refused by the use case) otherwise. */
function queryInteger(ctx: Context, name: string, fallback: number): number {
  const value = ctx.query[name];
  if (value === undefined) return fallback;
  return typeof value === 'string' && /^\d{1,9}$/.test(value) ? Number(value) : Number.NaN;
}

/** Adds the routes to `router`. */
export function adminRoutes(router: Router<AppState>, deps: AdminRoutesDependencies): void {
  const admin = [requireAuth(deps.verifyAccessToken), requireRoles('all', ['admin'])] as const;

  router.get('/api/users', ...admin, async (ctx) => {
    const result = await deps.listUsers.execute({
      page: queryInteger(ctx, 'page', 1),
      perPage: queryInteger(ctx, 'per_page', DEFAULT_PAGE_SIZE),
    });
    if (!result.ok) throw domainErrorToHttp(result.error);
    const { users, page, perPage, total } = result.value;
    ctx.body = { users: users.map(userJson), page, per_page: perPage, total };
  });

  router.patch('/api/users/:id', ...admin, async (ctx) => {
    const id = ctx.params.id ?? '';
    if (!/^\d{1,10}$/.test(id)) throw validationError('the user id must be a positive whole number');
    if (Number(id) < 1 || Number(id) > 2_147_483_647) throw notFound();
    const body = jsonObjectBody(ctx, 'roles (a list of role names) and/or is_active (true or false)');
    const result = await deps.updateUser.execute({
      target: { id: Number(id) },
      roles: body.roles,
      isActive: body.is_active,
    });
    if (!result.ok) throw domainErrorToHttp(result.error);
    ctx.body = userJson(result.value);
  });
}
