/** Postgres identifiers we create (schemas, roles) are plain lower-case names; anything else is refused. */
const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

export function identifier(name: string, what: string): string {
  if (!IDENTIFIER.test(name))
    throw new Error(`${what} "${name}" must match ${IDENTIFIER} (lower-case letters, digits, _)`);
  return `"${name}"`;
}

/** A string literal for DDL that cannot take parameters (CREATE ROLE ... PASSWORD). */
export function literal(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
