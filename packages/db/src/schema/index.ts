export * from './enums';
export * from './orders';
export * from './payment-attempts';
export * from './stripe-events';
export * from './users';
