CREATE TYPE "public"."principal_kind" AS ENUM('user', 'service');--> statement-breakpoint
CREATE TABLE "services" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "services_name_uq" UNIQUE("name"),
	CONSTRAINT "services_name_format" CHECK ("services"."name" ~ '^[a-z0-9][a-z0-9_.-]{0,62}$')
);
--> statement-breakpoint
ALTER TABLE "api_tokens" ALTER COLUMN "user_id" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "api_tokens" ADD COLUMN "id" uuid DEFAULT gen_random_uuid() NOT NULL;--> statement-breakpoint
ALTER TABLE "api_tokens" ADD COLUMN "principal_kind" "principal_kind" DEFAULT 'user' NOT NULL;--> statement-breakpoint
ALTER TABLE "api_tokens" ADD COLUMN "service_id" uuid;--> statement-breakpoint
ALTER TABLE "api_tokens" ADD COLUMN "scopes" text[] DEFAULT '{}'::text[] NOT NULL;--> statement-breakpoint
ALTER TABLE "api_tokens" ADD COLUMN "expires_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "api_tokens" ADD COLUMN "revoked_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "api_tokens" ADD CONSTRAINT "api_tokens_service_id_services_id_fk" FOREIGN KEY ("service_id") REFERENCES "public"."services"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "api_tokens_service_id_idx" ON "api_tokens" USING btree ("service_id");--> statement-breakpoint
ALTER TABLE "api_tokens" ADD CONSTRAINT "api_tokens_id_uq" UNIQUE("id");--> statement-breakpoint
ALTER TABLE "api_tokens" ADD CONSTRAINT "api_tokens_principal" CHECK (("api_tokens"."principal_kind" = 'user' and "api_tokens"."user_id" is not null and "api_tokens"."service_id" is null and cardinality("api_tokens"."scopes") = 0)
       or ("api_tokens"."principal_kind" = 'service' and "api_tokens"."service_id" is not null and "api_tokens"."user_id" is null));