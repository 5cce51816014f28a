-- CreateEnum
CREATE TYPE "WalletCleanupStep" AS ENUM ('CANCEL_GRANT', 'CLOSE_INCOMING_PAYMENT');

-- CreateEnum
CREATE TYPE "WalletCleanupStatus" AS ENUM ('PENDING', 'DONE', 'GAVE_UP');

-- DropForeignKey
ALTER TABLE "WebhookEvent" DROP CONSTRAINT "WebhookEvent_paymentId_fkey";

-- DropIndex
DROP INDEX "WebhookEvent_paymentId_id_idx";

-- AlterTable
ALTER TABLE "IncomingPayment" ALTER COLUMN "incomingPaymentId" DROP NOT NULL;

-- AlterTable
ALTER TABLE "Payment" ADD COLUMN     "eventCount" INTEGER NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "WebhookEvent" ADD COLUMN     "sequence" INTEGER NOT NULL DEFAULT 0,
ALTER COLUMN "paymentId" DROP NOT NULL;

-- CreateTable
CREATE TABLE "WalletCleanup" (
    "id" TEXT NOT NULL,
    "paymentId" TEXT NOT NULL,
    "step" "WalletCleanupStep" NOT NULL,
    "status" "WalletCleanupStatus" NOT NULL DEFAULT 'PENDING',
    "outcome" TEXT,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "nextAttemptAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "leaseUntil" TIMESTAMP(3),
    "lastError" TEXT,
    "finishedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "WalletCleanup_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "WalletCleanup_status_nextAttemptAt_idx" ON "WalletCleanup"("status", "nextAttemptAt");

-- CreateIndex
CREATE UNIQUE INDEX "WalletCleanup_paymentId_step_key" ON "WalletCleanup"("paymentId", "step");

-- CreateIndex
CREATE INDEX "WebhookEvent_paymentId_sequence_idx" ON "WebhookEvent"("paymentId", "sequence");

-- AddForeignKey
ALTER TABLE "WebhookEvent" ADD CONSTRAINT "WebhookEvent_paymentId_fkey" FOREIGN KEY ("paymentId") REFERENCES "Payment"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "WalletCleanup" ADD CONSTRAINT "WalletCleanup_paymentId_fkey" FOREIGN KEY ("paymentId") REFERENCES "Payment"("id") ON DELETE RESTRICT ON UPDATE CASCADE;


-- Backfill (added by hand to the generated migration): events written before this migration keep
-- the order of their ids, and each payment's count continues from its last event.
UPDATE "WebhookEvent" SET "sequence" = (SELECT COUNT(*) FROM "WebhookEvent" AS "earlier" WHERE "earlier"."paymentId" = "WebhookEvent"."paymentId" AND "earlier"."id" <= "WebhookEvent"."id");
UPDATE "Payment" SET "eventCount" = (SELECT COUNT(*) FROM "WebhookEvent" WHERE "WebhookEvent"."paymentId" = "Payment"."id");
