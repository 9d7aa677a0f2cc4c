CREATE TYPE "public"."capture_kind" AS ENUM('capture', 'void');--> statement-breakpoint
CREATE TYPE "public"."capture_method" AS ENUM('automatic', 'manual');--> statement-breakpoint
CREATE TYPE "public"."capture_status" AS ENUM('pending', 'succeeded', 'failed');--> statement-breakpoint
-- Enum values are added by re-creating the types: ALTER TYPE ... ADD VALUE cannot be used in the
-- transaction that adds it, and every pending migration runs in one transaction (the partial
-- indexes below name the new values).
ALTER TABLE "orders" DROP CONSTRAINT "orders_paid_has_payment_intent";--> statement-breakpoint
DROP INDEX "orders_payment_intent_paid_uq";--> statement-breakpoint
DROP INDEX "payment_attempts_one_success_per_order_uq";--> statement-breakpoint
DROP INDEX "payment_attempts_in_flight_idx";--> statement-breakpoint
ALTER TYPE "public"."order_status" RENAME TO "order_status_before_0008";--> statement-breakpoint
CREATE TYPE "public"."order_status" AS ENUM('pending', 'processing', 'paid', 'failed', 'requires_action', 'canceled', 'partially_refunded', 'refunded', 'authorized', 'capturing', 'voiding');--> statement-breakpoint
ALTER TABLE "orders" ALTER COLUMN "status" DROP DEFAULT;--> statement-breakpoint
ALTER TABLE "orders" ALTER COLUMN "status" SET DATA TYPE "public"."order_status" USING "status"::text::"public"."order_status";--> statement-breakpoint
ALTER TABLE "orders" ALTER COLUMN "status" SET DEFAULT 'pending';--> statement-breakpoint
DROP TYPE "public"."order_status_before_0008";--> statement-breakpoint
ALTER TYPE "public"."attempt_status" RENAME TO "attempt_status_before_0008";--> statement-breakpoint
CREATE TYPE "public"."attempt_status" AS ENUM('processing', 'succeeded', 'failed', 'requires_action', 'authorized', 'canceled');--> statement-breakpoint
ALTER TABLE "payment_attempts" ALTER COLUMN "status" DROP DEFAULT;--> statement-breakpoint
ALTER TABLE "payment_attempts" ALTER COLUMN "status" SET DATA TYPE "public"."attempt_status" USING "status"::text::"public"."attempt_status";--> statement-breakpoint
ALTER TABLE "payment_attempts" ALTER COLUMN "status" SET DEFAULT 'processing';--> statement-breakpoint
DROP TYPE "public"."attempt_status_before_0008";--> statement-breakpoint
CREATE UNIQUE INDEX "orders_payment_intent_paid_uq" ON "orders" USING btree ("payment_intent_id") WHERE status in ('paid', 'partially_refunded', 'refunded');--> statement-breakpoint
ALTER TABLE "orders" ADD CONSTRAINT "orders_paid_has_payment_intent" CHECK (not "orders"."status" in ('paid', 'partially_refunded', 'refunded') OR "orders"."payment_intent_id" IS NOT NULL);--> statement-breakpoint
CREATE INDEX "payment_attempts_in_flight_idx" ON "payment_attempts" USING btree ("claimed_at") WHERE "payment_attempts"."status" in ('processing', 'requires_action');--> statement-breakpoint
CREATE TABLE "captures" (
	"id" uuid PRIMARY KEY NOT NULL,
	"order_id" uuid NOT NULL,
	"attempt_id" uuid NOT NULL,
	"payment_intent_id" text NOT NULL,
	"kind" "capture_kind" NOT NULL,
	"amount" integer,
	"status" "capture_status" DEFAULT 'pending' NOT NULL,
	"idempotency_key" text NOT NULL,
	"error_code" text,
	"requested_by_kind" "principal_kind" NOT NULL,
	"requested_by_id" uuid NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"completed_at" timestamp with time zone,
	"lease_until" timestamp with time zone,
	"recovery_runs" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "captures_idempotency_key_uq" UNIQUE("idempotency_key"),
	CONSTRAINT "captures_amount_positive" CHECK ("captures"."amount" is null or "captures"."amount" > 0)
);
--> statement-breakpoint
ALTER TABLE "orders" DROP CONSTRAINT "orders_refunded_amount_range";--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "capture_method" "capture_method" DEFAULT 'automatic' NOT NULL;--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "authorized_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "captured_amount" integer;--> statement-breakpoint
-- Every order paid so far was captured whole.
UPDATE "orders" SET "captured_amount" = "amount" WHERE "status" in ('paid', 'partially_refunded', 'refunded');--> statement-breakpoint
ALTER TABLE "payment_attempts" ADD COLUMN "capture_method" "capture_method" DEFAULT 'automatic' NOT NULL;--> statement-breakpoint
ALTER TABLE "payment_attempts" ADD COLUMN "return_url" text;--> statement-breakpoint
ALTER TABLE "payment_attempts" ADD COLUMN "action_url" text;--> statement-breakpoint
ALTER TABLE "captures" ADD CONSTRAINT "captures_order_id_orders_id_fk" FOREIGN KEY ("order_id") REFERENCES "public"."orders"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "captures" ADD CONSTRAINT "captures_attempt_id_payment_attempts_id_fk" FOREIGN KEY ("attempt_id") REFERENCES "public"."payment_attempts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "captures_one_per_authorization_uq" ON "captures" USING btree ("attempt_id") WHERE status in ('pending', 'succeeded');--> statement-breakpoint
CREATE INDEX "captures_order_idx" ON "captures" USING btree ("order_id","created_at");--> statement-breakpoint
CREATE INDEX "captures_pending_idx" ON "captures" USING btree ("created_at") WHERE "captures"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "payment_attempts_authorized_idx" ON "payment_attempts" USING btree ("completed_at") WHERE "payment_attempts"."status" = 'authorized';--> statement-breakpoint
CREATE UNIQUE INDEX "payment_attempts_one_success_per_order_uq" ON "payment_attempts" USING btree ("order_id") WHERE status in ('succeeded', 'authorized');--> statement-breakpoint
ALTER TABLE "orders" ADD CONSTRAINT "orders_captured_amount_range" CHECK ("orders"."captured_amount" is null or ("orders"."captured_amount" > 0 and "orders"."captured_amount" <= "orders"."amount"));--> statement-breakpoint
ALTER TABLE "orders" ADD CONSTRAINT "orders_refunded_amount_range" CHECK ("orders"."refunded_amount" >= 0 and "orders"."refunded_amount" <= coalesce("orders"."captured_amount", "orders"."amount"));
