/** Values shared by several parts of the embedded-PostgreSQL launcher. */

export const PG_USER = 'postgres';
export const PG_PASSWORD = 'postgres';
export const DEFAULT_DATABASE = 'chargeonce';
/** Set in the server's environment so that a later start can tell whether its owner is still alive. */
export const OWNER_ENV = 'CHARGEONCE_PG_OWNER_PID';
