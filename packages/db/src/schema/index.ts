export * from './enums';
export * from './orders';
export * from './payment-attempts';
export * from './users';
