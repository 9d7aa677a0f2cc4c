/** Sum of a Prometheus counter/gauge series (exact name + labels) across servers' /metrics. */
export async function metricSum(urls: string[], series: string): Promise<number> {
  let total = 0;
  for (const url of urls) {
    const text = await (await fetch(`${url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${series} `));
    total += line ? Number(line.split(' ')[1]) : 0;
  }
  return total;
}
