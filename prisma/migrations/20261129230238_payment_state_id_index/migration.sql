-- CreateIndex
CREATE INDEX "Payment_state_id_idx" ON "Payment"("state", "id");

