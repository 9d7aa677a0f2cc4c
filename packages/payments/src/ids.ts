/** Whether a string is a UUID (ids in Stripe metadata are untrusted text until checked). */
export function isUuid(id: string | undefined): id is string {
  return !!id && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id);
}
