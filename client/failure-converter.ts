/**
 * Failures with their message and stack trace moved into an encoded payload, so that with a
 * payload codec (payload-codec.ts) a failure's text (which names tenants and databases) is
 * encrypted like every other payload. Loaded by the worker into the workflow sandbox too
 * (failureConverterPath): only @temporalio/common here.
 */
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
