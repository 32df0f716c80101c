/**
 * flask-praetorian's role list, one comma-joined text: the format of the seed's `roles` column and of the `rls` claim.
 * Read leniently (null, padding, empty entries), as rows written by other tools may hold them.
 */
export function parseRoleList(text: string | null | undefined): string[] {
  if (!text) return [];
  return text
    .split(',')
    .map((role) => role.trim())
    .filter((role) => role.length > 0);
}

export function formatRoleList(roles: readonly string[]): string {
  return roles.join(',');
}
