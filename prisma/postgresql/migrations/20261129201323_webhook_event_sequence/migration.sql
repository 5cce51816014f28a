-- DropIndex
DROP INDEX "WebhookEvent_paymentId_id_idx";

-- AlterTable
ALTER TABLE "Payment" ADD COLUMN     "eventCount" INTEGER NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "WebhookEvent" ADD COLUMN     "sequence" INTEGER NOT NULL DEFAULT 0;

-- CreateIndex
CREATE INDEX "WebhookEvent_paymentId_sequence_idx" ON "WebhookEvent"("paymentId", "sequence");


-- Backfill (added by hand to the generated migration): events written before this migration keep
-- the order of their ids, and each payment's count continues from its last event.
UPDATE "WebhookEvent" SET "sequence" = (SELECT COUNT(*) FROM "WebhookEvent" AS "earlier" WHERE "earlier"."paymentId" = "WebhookEvent"."paymentId" AND "earlier"."id" <= "WebhookEvent"."id");
UPDATE "Payment" SET "eventCount" = (SELECT COUNT(*) FROM "WebhookEvent" WHERE "WebhookEvent"."paymentId" = "Payment"."id");
