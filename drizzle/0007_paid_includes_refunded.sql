ALTER TABLE "orders" DROP CONSTRAINT "orders_paid_has_payment_intent";--> statement-breakpoint
DROP INDEX "orders_payment_intent_paid_uq";--> statement-breakpoint
CREATE UNIQUE INDEX "orders_payment_intent_paid_uq" ON "orders" USING btree ("payment_intent_id") WHERE status in ('paid', 'partially_refunded', 'refunded');--> statement-breakpoint
ALTER TABLE "orders" ADD CONSTRAINT "orders_paid_has_payment_intent" CHECK (not "orders"."status" in ('paid', 'partially_refunded', 'refunded') OR "orders"."payment_intent_id" IS NOT NULL);