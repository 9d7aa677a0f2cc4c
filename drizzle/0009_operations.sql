CREATE TABLE "operator_actions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"principal" text NOT NULL,
	"action" text NOT NULL,
	"target" text NOT NULL,
	"result" text DEFAULT 'started' NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	CONSTRAINT "operator_actions_action" CHECK ("action" in ('recover_attempt', 'recover_refund', 'recover_capture', 'reconcile'))
);
--> statement-breakpoint
CREATE TABLE "reconciliation_runs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"trigger" text NOT NULL,
	"requested_by" text,
	"instance_id" text NOT NULL,
	"window_from" timestamp with time zone NOT NULL,
	"window_to" timestamp with time zone NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"finished_at" timestamp with time zone DEFAULT now() NOT NULL,
	"outcome" text NOT NULL,
	"provider_payment_intents" integer DEFAULT 0 NOT NULL,
	"paid_orders" integer DEFAULT 0 NOT NULL,
	"refunded_orders" integer DEFAULT 0 NOT NULL,
	"findings" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"findings_count" integer DEFAULT 0 NOT NULL,
	"unexplained" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "reconciliation_runs_trigger" CHECK ("trigger" in ('schedule', 'operator')),
	CONSTRAINT "reconciliation_runs_outcome" CHECK ("outcome" in ('completed', 'failed'))
);
--> statement-breakpoint
CREATE TABLE "webhook_refusals" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"reason" text NOT NULL,
	"event_id" text,
	"event_type" text,
	"http_status" integer NOT NULL,
	"instance_id" text NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "webhook_refusals_reason" CHECK ("reason" in ('bad_signature', 'database_unavailable', 'error', 'retry_later', 'unknown_payment_intent'))
);
--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "operator_scopes" text[] DEFAULT '{}'::text[] NOT NULL;--> statement-breakpoint
CREATE INDEX "operator_actions_started_idx" ON "operator_actions" USING btree ("started_at");--> statement-breakpoint
CREATE INDEX "reconciliation_runs_finished_idx" ON "reconciliation_runs" USING btree ("finished_at");--> statement-breakpoint
CREATE INDEX "webhook_refusals_received_idx" ON "webhook_refusals" USING btree ("received_at");--> statement-breakpoint
ALTER TABLE "users" ADD CONSTRAINT "users_operator_scopes" CHECK ("users"."operator_scopes" <@ array['operations:read', 'operations:write']::text[]);