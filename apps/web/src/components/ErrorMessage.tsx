import { describeError } from '../errors';

/** An error in words, announced at once (role="alert"). */
export function ErrorMessage({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <p role="alert" className="error">
      {describeError(error)}
    </p>
  );
}
