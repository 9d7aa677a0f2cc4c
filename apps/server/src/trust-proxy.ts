/** TRUST_PROXY: `true`, or the proxies' addresses and CIDRs (comma-separated) whose forwarded headers count. */
export function trustProxyOf(raw: string | undefined): boolean | string[] {
  if (raw === undefined || raw === 'false') return false;
  if (raw === 'true') return true;
  return raw
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean);
}
