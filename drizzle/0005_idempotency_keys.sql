CREATE TYPE "public"."idempotency_key_state" AS ENUM('in_flight', 'completed');--> statement-breakpoint
CREATE TABLE "idempotency_keys" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"principal_kind" "principal_kind" NOT NULL,
	"principal_id" uuid NOT NULL,
	"key" text NOT NULL,
	"procedure" text NOT NULL,
	"fingerprint" text NOT NULL,
	"state" "idempotency_key_state" DEFAULT 'in_flight' NOT NULL,
	"response" jsonb,
	"http_status" integer,
	"locked_at" timestamp with time zone,
	"lock_token" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"completed_at" timestamp with time zone,
	CONSTRAINT "idempotency_keys_principal_key_uq" UNIQUE("principal_kind","principal_id","key"),
	CONSTRAINT "idempotency_keys_key_format" CHECK ("idempotency_keys"."key" ~ '^[\x20-\x7E]{1,255}$'),
	CONSTRAINT "idempotency_keys_completed_has_response" CHECK ("idempotency_keys"."state" <> 'completed' or ("idempotency_keys"."response" is not null and "idempotency_keys"."http_status" is not null))
);
--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "idempotency_key_id" uuid;--> statement-breakpoint
CREATE INDEX "idempotency_keys_created_idx" ON "idempotency_keys" USING btree ("created_at");--> statement-breakpoint
ALTER TABLE "orders" ADD CONSTRAINT "orders_idempotency_key_id_idempotency_keys_id_fk" FOREIGN KEY ("idempotency_key_id") REFERENCES "public"."idempotency_keys"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "orders" ADD CONSTRAINT "orders_idempotency_key_uq" UNIQUE("idempotency_key_id");