-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "PaymentState" AS ENUM ('AWAITING_APPROVAL', 'FINISHING', 'PROCESSING', 'COMPLETED', 'FAILED', 'REJECTED', 'EXPIRED');

-- CreateEnum
CREATE TYPE "WebhookEventStatus" AS ENUM ('PENDING', 'DELIVERED', 'DEAD');

-- CreateTable
CREATE TABLE "Seller" (
    "id" TEXT NOT NULL,
    "walletAddressUrl" TEXT NOT NULL,
    "keyId" TEXT NOT NULL,
    "privateKeyPath" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Seller_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Payment" (
    "id" TEXT NOT NULL,
    "offerId" TEXT NOT NULL,
    "sellerId" TEXT NOT NULL,
    "state" "PaymentState" NOT NULL DEFAULT 'AWAITING_APPROVAL',
    "buyerWalletAddressUrl" TEXT NOT NULL,
    "amount" TEXT NOT NULL,
    "assetCode" TEXT NOT NULL,
    "assetScale" INTEGER NOT NULL,
    "returnUrl" TEXT,
    "idempotencyKey" TEXT,
    "requestFingerprint" TEXT,
    "incomingPaymentId" TEXT,
    "incomingPaymentExpiresAt" TIMESTAMP(3),
    "quoteId" TEXT,
    "debitAmount" TEXT,
    "debitAssetCode" TEXT,
    "debitAssetScale" INTEGER,
    "receiveAmount" TEXT,
    "quoteExpiresAt" TIMESTAMP(3),
    "buyerAuthServer" TEXT,
    "redirectUrl" TEXT,
    "continueUri" TEXT,
    "continueToken" TEXT,
    "continueWaitSeconds" INTEGER,
    "grantRequestedAt" TIMESTAMP(3),
    "clientNonce" TEXT,
    "finishNonce" TEXT,
    "interactRef" TEXT,
    "accessToken" TEXT,
    "accessTokenManageUrl" TEXT,
    "accessTokenExpiresAt" TIMESTAMP(3),
    "outgoingPaymentId" TEXT,
    "outgoingPaymentJson" TEXT,
    "sentAmount" TEXT,
    "receivedAmount" TEXT,
    "leaseUntil" TIMESTAMP(3),
    "checkAttempts" INTEGER NOT NULL DEFAULT 0,
    "lastCheckedAt" TIMESTAMP(3),
    "nextCheckAt" TIMESTAMP(3),
    "failureCode" TEXT,
    "failureMessage" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "finishedAt" TIMESTAMP(3),

    CONSTRAINT "Payment_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "IncomingPayment" (
    "id" TEXT NOT NULL,
    "sellerId" TEXT NOT NULL,
    "incomingPaymentId" TEXT NOT NULL,
    "walletAddress" TEXT NOT NULL,
    "amount" TEXT NOT NULL,
    "assetCode" TEXT NOT NULL,
    "assetScale" INTEGER NOT NULL,
    "description" TEXT,
    "idempotencyKey" TEXT,
    "requestFingerprint" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "IncomingPayment_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "WebhookEvent" (
    "id" TEXT NOT NULL,
    "paymentId" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "payload" TEXT NOT NULL,
    "status" "WebhookEventStatus" NOT NULL DEFAULT 'PENDING',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "nextAttemptAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "leaseUntil" TIMESTAMP(3),
    "lastError" TEXT,
    "lastStatusCode" INTEGER,
    "deliveredAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "WebhookEvent_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Payment_idempotencyKey_key" ON "Payment"("idempotencyKey");

-- CreateIndex
CREATE INDEX "Payment_offerId_id_idx" ON "Payment"("offerId", "id");

-- CreateIndex
CREATE INDEX "Payment_state_nextCheckAt_idx" ON "Payment"("state", "nextCheckAt");

-- CreateIndex
CREATE INDEX "Payment_sellerId_id_idx" ON "Payment"("sellerId", "id");

-- CreateIndex
CREATE UNIQUE INDEX "IncomingPayment_idempotencyKey_key" ON "IncomingPayment"("idempotencyKey");

-- CreateIndex
CREATE INDEX "WebhookEvent_status_nextAttemptAt_idx" ON "WebhookEvent"("status", "nextAttemptAt");

-- CreateIndex
CREATE INDEX "WebhookEvent_paymentId_id_idx" ON "WebhookEvent"("paymentId", "id");

-- AddForeignKey
ALTER TABLE "Payment" ADD CONSTRAINT "Payment_sellerId_fkey" FOREIGN KEY ("sellerId") REFERENCES "Seller"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "IncomingPayment" ADD CONSTRAINT "IncomingPayment_sellerId_fkey" FOREIGN KEY ("sellerId") REFERENCES "Seller"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "WebhookEvent" ADD CONSTRAINT "WebhookEvent_paymentId_fkey" FOREIGN KEY ("paymentId") REFERENCES "Payment"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

