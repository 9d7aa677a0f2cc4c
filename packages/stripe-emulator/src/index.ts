export { startStripeEmulator } from './server';
export type { EmulatedPaymentIntent, EmulatorOptions, StripeEmulator } from './types';
