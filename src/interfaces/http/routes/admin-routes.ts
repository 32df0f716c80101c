import type Router from '@koa/router';
import { z } from 'zod';
import { type ListUsers, MAX_PAGE_SIZE } from '../../../application/use-cases/list-users.js';
import type { UpdateUser } from '../../../application/use-cases/update-user.js';
import type { CreateUser } from '../../../application/use-cases/create-user.js';
import type { ManageUser } from '../../../application/use-cases/own-account.js';
import type { RequestPasswordReset } from '../../../application/use-cases/password-reset.js';
import type { VerifyAccessToken } from '../../../application/use-cases/verify-access-token.js';
import type { AppState } from '../state.js';
import { requireAuth } from '../middleware/require-auth.js';
import { requireRoles } from '../middleware/require-roles.js';
import { unwrap } from '../error-response.js';
import { requestContext } from '../request-context.js';
import { bodyOf, paramsOf, queryOf, textField } from '../input.js';
import { userJson } from './account-routes.js';

export interface AdminRoutesDependencies {
  readonly verifyAccessToken: VerifyAccessToken;
  readonly listUsers: ListUsers;
  readonly updateUser: UpdateUser;
  readonly createUser: CreateUser;
  readonly manageUser: ManageUser;
  readonly requestPasswordReset: RequestPasswordReset;
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

const newUser = z.object({
  username: textField('username'),
  password: textField('password'),
  email: textField('email').optional(),
  roles: z.array(z.string({ invalid_type_error: ROLES_MESSAGE }), { invalid_type_error: ROLES_MESSAGE }).optional(),
});

/** Adds the routes to `router`. */
export function adminRoutes(router: Router<AppState>, deps: AdminRoutesDependencies): void {
  const admin = [requireAuth(deps.verifyAccessToken), requireRoles('all', ['admin'])] as const;

  router.get('/api/users', ...admin, async (ctx) => {
    const query = queryOf(ctx, listQuery);
    const { users, page, perPage, total } = await deps.listUsers.execute({ page: query.page, perPage: query.per_page });
    ctx.body = { users: users.map(userJson), page, per_page: perPage, total };
  });

  // Admins create users whether or not public registration is open.
  router.post('/api/users', ...admin, async (ctx) => {
    const body = bodyOf(ctx, newUser, 'username, password, and optionally email and roles');
    const created = unwrap(await deps.createUser.execute(body));
    ctx.status = 201;
    ctx.body = userJson({ ...created });
  });

  router.get('/api/users/:id', ...admin, async (ctx) => {
    const { id } = paramsOf(ctx, userParams);
    ctx.body = userJson(unwrap(await deps.manageUser.get(id)));
  });

  router.delete('/api/users/:id', ...admin, async (ctx) => {
    const { id } = paramsOf(ctx, userParams);
    unwrap(await deps.manageUser.delete(id, ctx.state.principal, requestContext(ctx)));
    ctx.status = 204;
  });

  router.post('/api/users/:id/reset', ...admin, async (ctx) => {
    const { id } = paramsOf(ctx, userParams);
    unwrap(await deps.requestPasswordReset.forUser(id, requestContext(ctx)));
    ctx.status = 202;
    ctx.body = { message: "A password reset link is on its way to the user's address." };
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
