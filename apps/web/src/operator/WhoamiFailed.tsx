import { ErrorMessage } from '../components/ErrorMessage';
import { PageHeading } from '../components/PageHeading';

/** The part of the `principal.whoami` query the operator page's gate needs. */
export interface WhoamiState {
  isError: boolean;
  error: unknown;
  isFetching: boolean;
  refetch: () => unknown;
}

/**
 * What the session may do could not be read (the server or the network failed, after the query's
 * own retries): said so, with a way to ask again, instead of "Loading…" for good.
 */
export function WhoamiFailed({ whoami }: { whoami: WhoamiState }) {
  return (
    <>
      <PageHeading title="Operations">Operations</PageHeading>
      <ErrorMessage error={whoami.error} />
      <button type="button" onClick={() => void whoami.refetch()} disabled={whoami.isFetching}>
        {whoami.isFetching ? 'Trying again…' : 'Try again'}
      </button>
    </>
  );
}
