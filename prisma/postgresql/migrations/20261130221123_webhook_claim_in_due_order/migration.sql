-- For the webhook claim, which walks the due events in order (src/workers/deliver-webhooks.ts).
-- The new indexes are built before the old ones go, so no query is left without one meanwhile.

-- CreateIndex
CREATE INDEX "WebhookEvent_status_nextAttemptAt_id_idx" ON "WebhookEvent"("status", "nextAttemptAt", "id");

-- CreateIndex
CREATE INDEX "WebhookEvent_paymentId_status_sequence_idx" ON "WebhookEvent"("paymentId", "status", "sequence");

-- DropIndex
DROP INDEX "WebhookEvent_paymentId_sequence_idx";

-- DropIndex
DROP INDEX "WebhookEvent_status_nextAttemptAt_idx";
