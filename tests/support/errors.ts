import { TRPCClientError } from '@chargeonce/client';

/** Awaits a call expected to fail and returns the tRPC error (code, domain code, message). */
export async function trpcError(call: Promise<unknown>): Promise<{
  code: string | undefined;
  httpStatus: number | undefined;
  domainCode: string | null | undefined;
  declineCode: string | null | undefined;
  message: string;
}> {
  try {
    await call;
  } catch (err) {
    if (!(err instanceof TRPCClientError)) throw err;
    const data = err.data as
      | { code?: string; httpStatus?: number; domainCode?: string | null; declineCode?: string | null }
      | undefined;
    return {
      code: data?.code,
      httpStatus: data?.httpStatus,
      domainCode: data?.domainCode,
      declineCode: data?.declineCode,
      message: err.message,
    };
  }
  throw new Error('expected the call to fail, but it succeeded');
}
