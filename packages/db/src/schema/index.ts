export { attemptStatus, orderStatus } from '../states';
export * from './idempotency-keys';
export * from './orders';
export * from './payment-attempts';
export * from './stripe-events';
export * from './users';
