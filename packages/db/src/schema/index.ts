export {
  attemptStatus,
  captureKind,
  captureMethod,
  captureStatus,
  orderStatus,
  refundStatus,
} from '../states';
export * from './captures';
export * from './idempotency-keys';
export * from './operations';
export * from './orders';
export * from './payment-attempts';
export * from './refunds';
export * from './stripe-events';
export * from './users';
