-- DropIndex
DROP INDEX "WebhookEvent_paymentId_sequence_idx";

-- DropIndex
DROP INDEX "WebhookEvent_status_nextAttemptAt_idx";

-- CreateIndex
CREATE INDEX "WebhookEvent_status_nextAttemptAt_id_idx" ON "WebhookEvent"("status", "nextAttemptAt", "id");

-- CreateIndex
CREATE INDEX "WebhookEvent_paymentId_status_sequence_idx" ON "WebhookEvent"("paymentId", "status", "sequence");

