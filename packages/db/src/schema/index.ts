export { attemptStatus, orderStatus } from '../states';
export * from './orders';
export * from './payment-attempts';
export * from './stripe-events';
export * from './users';
