import type Router from '@koa/router';
import { z } from 'zod';
import { type ListUsers, MAX_PAGE_SIZE } from '../../../application/use-cases/list-users.js';
import type { UpdateUser } from '../../../application/use-cases/update-user.js';
import type { VerifyAccessToken } from '../../../application/use-cases/verify-access-token.js';
import type { UserView } from '../../../domain/user.js';
import type { AppState } from '../state.js';
import { requireAuth } from '../middleware/require-auth.js';
import { requireRoles } from '../middleware/require-roles.js';
import { unwrap } from '../error-response.js';
import { bodyOf, paramsOf, queryOf } from '../input.js';
import { requestContext } from '../request-context.js';

export interface AdminRoutesDependencies {
  readonly verifyAccessToken: VerifyAccessToken;
  readonly listUsers: ListUsers;
  readonly updateUser: UpdateUser;
}

const DEFAULT_PAGE_SIZE = 20;

/** A whole number from the query string in `min..max`, `fallback` when absent. */
const queryInteger = (min: number, max: number, fallback: number, message: string) =>
  z
    .string({ invalid_type_error: message })
    .regex(/^\d{1,9}$/, message)
    .transform(Number)
    .pipe(z.number().min(min, message).max(max, message))
    .default(String(fallback));

const listQuery = z.object({
  page: queryInteger(1, 1_000_000, 1, 'page must be a whole number from 1'),
  per_page: queryInteger(
    1,
    MAX_PAGE_SIZE,
    DEFAULT_PAGE_SIZE,
    `per_page must be a whole number from 1 to ${MAX_PAGE_SIZE}`,
  ),
});

const userParams = z.object({
  id: z
    .string()
    .regex(/^\d{1,10}$/, 'the user id must be a positive whole number')
    .transform(Number),
});

const ROLES_MESSAGE = 'roles must be a list of role names';
const userChanges = z
  .object({
    roles: z.array(z.string({ invalid_type_error: ROLES_MESSAGE }), { invalid_type_error: ROLES_MESSAGE }).optional(),
    is_active: z.boolean({ invalid_type_error: 'is_active must be true or false' }).optional(),
  })
  .refine((changes) => changes.roles !== undefined || changes.is_active !== undefined, {
    message: 'give roles and/or is_active',
  });

/** A user as the admin API shows it. */
const userJson = (user: UserView) => ({
  id: user.id,
  username: user.username,
  roles: user.roles,
  is_active: user.isActive,
});

/** Adds the routes to `router`. */
export function adminRoutes(router: Router<AppState>, deps: AdminRoutesDependencies): void {
  const admin = [requireAuth(deps.verifyAccessToken), requireRoles('all', ['admin'])] as const;

  router.get('/api/users', ...admin, async (ctx) => {
    const query = queryOf(ctx, listQuery);
    const { users, page, perPage, total } = await deps.listUsers.execute({ page: query.page, perPage: query.per_page });
    ctx.body = { users: users.map(userJson), page, per_page: perPage, total };
  });

  router.patch('/api/users/:id', ...admin, async (ctx) => {
    const { id } = paramsOf(ctx, userParams);
    const changes = bodyOf(ctx, userChanges, 'roles (a list of role names) and/or is_active (true or false)');
    const updated = await deps.updateUser.execute({
      target: { id },
      roles: changes.roles,
      isActive: changes.is_active,
      actor: { via: 'api', userId: ctx.state.principal!.userId, username: ctx.state.principal!.username },
      context: requestContext(ctx),
    });
    ctx.body = userJson(unwrap(updated));
  });
}
