-- CreateTable
CREATE TABLE "WalletCleanup" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "paymentId" TEXT NOT NULL,
    "step" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'PENDING',
    "outcome" TEXT,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "nextAttemptAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "leaseUntil" DATETIME,
    "lastError" TEXT,
    "finishedAt" DATETIME,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "WalletCleanup_paymentId_fkey" FOREIGN KEY ("paymentId") REFERENCES "Payment" ("id") ON DELETE RESTRICT ON UPDATE CASCADE
);

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_IncomingPayment" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "sellerId" TEXT NOT NULL,
    "incomingPaymentId" TEXT,
    "walletAddress" TEXT NOT NULL,
    "amount" TEXT NOT NULL,
    "assetCode" TEXT NOT NULL,
    "assetScale" INTEGER NOT NULL,
    "description" TEXT,
    "idempotencyKey" TEXT,
    "requestFingerprint" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "IncomingPayment_sellerId_fkey" FOREIGN KEY ("sellerId") REFERENCES "Seller" ("id") ON DELETE RESTRICT ON UPDATE CASCADE
);
INSERT INTO "new_IncomingPayment" ("amount", "assetCode", "assetScale", "createdAt", "description", "id", "idempotencyKey", "incomingPaymentId", "requestFingerprint", "sellerId", "walletAddress") SELECT "amount", "assetCode", "assetScale", "createdAt", "description", "id", "idempotencyKey", "incomingPaymentId", "requestFingerprint", "sellerId", "walletAddress" FROM "IncomingPayment";
DROP TABLE "IncomingPayment";
ALTER TABLE "new_IncomingPayment" RENAME TO "IncomingPayment";
CREATE UNIQUE INDEX "IncomingPayment_idempotencyKey_key" ON "IncomingPayment"("idempotencyKey");
CREATE TABLE "new_Payment" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "offerId" TEXT NOT NULL,
    "sellerId" TEXT NOT NULL,
    "state" TEXT NOT NULL DEFAULT 'AWAITING_APPROVAL',
    "buyerWalletAddressUrl" TEXT NOT NULL,
    "amount" TEXT NOT NULL,
    "assetCode" TEXT NOT NULL,
    "assetScale" INTEGER NOT NULL,
    "returnUrl" TEXT,
    "idempotencyKey" TEXT,
    "requestFingerprint" TEXT,
    "incomingPaymentId" TEXT,
    "incomingPaymentExpiresAt" DATETIME,
    "quoteId" TEXT,
    "debitAmount" TEXT,
    "debitAssetCode" TEXT,
    "debitAssetScale" INTEGER,
    "receiveAmount" TEXT,
    "quoteExpiresAt" DATETIME,
    "buyerAuthServer" TEXT,
    "redirectUrl" TEXT,
    "continueUri" TEXT,
    "continueToken" TEXT,
    "continueWaitSeconds" INTEGER,
    "grantRequestedAt" DATETIME,
    "clientNonce" TEXT,
    "finishNonce" TEXT,
    "interactRef" TEXT,
    "accessToken" TEXT,
    "accessTokenManageUrl" TEXT,
    "accessTokenExpiresAt" DATETIME,
    "outgoingPaymentId" TEXT,
    "outgoingPaymentJson" TEXT,
    "sentAmount" TEXT,
    "receivedAmount" TEXT,
    "leaseUntil" DATETIME,
    "checkAttempts" INTEGER NOT NULL DEFAULT 0,
    "lastCheckedAt" DATETIME,
    "nextCheckAt" DATETIME,
    "failureCode" TEXT,
    "failureMessage" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    "finishedAt" DATETIME,
    "eventCount" INTEGER NOT NULL DEFAULT 0,
    CONSTRAINT "Payment_sellerId_fkey" FOREIGN KEY ("sellerId") REFERENCES "Seller" ("id") ON DELETE RESTRICT ON UPDATE CASCADE
);
INSERT INTO "new_Payment" ("accessToken", "accessTokenExpiresAt", "accessTokenManageUrl", "amount", "assetCode", "assetScale", "buyerAuthServer", "buyerWalletAddressUrl", "checkAttempts", "clientNonce", "continueToken", "continueUri", "continueWaitSeconds", "createdAt", "debitAmount", "debitAssetCode", "debitAssetScale", "failureCode", "failureMessage", "finishNonce", "finishedAt", "grantRequestedAt", "id", "idempotencyKey", "incomingPaymentExpiresAt", "incomingPaymentId", "interactRef", "lastCheckedAt", "leaseUntil", "nextCheckAt", "offerId", "outgoingPaymentId", "outgoingPaymentJson", "quoteExpiresAt", "quoteId", "receiveAmount", "receivedAmount", "redirectUrl", "requestFingerprint", "returnUrl", "sellerId", "sentAmount", "state", "updatedAt") SELECT "accessToken", "accessTokenExpiresAt", "accessTokenManageUrl", "amount", "assetCode", "assetScale", "buyerAuthServer", "buyerWalletAddressUrl", "checkAttempts", "clientNonce", "continueToken", "continueUri", "continueWaitSeconds", "createdAt", "debitAmount", "debitAssetCode", "debitAssetScale", "failureCode", "failureMessage", "finishNonce", "finishedAt", "grantRequestedAt", "id", "idempotencyKey", "incomingPaymentExpiresAt", "incomingPaymentId", "interactRef", "lastCheckedAt", "leaseUntil", "nextCheckAt", "offerId", "outgoingPaymentId", "outgoingPaymentJson", "quoteExpiresAt", "quoteId", "receiveAmount", "receivedAmount", "redirectUrl", "requestFingerprint", "returnUrl", "sellerId", "sentAmount", "state", "updatedAt" FROM "Payment";
DROP TABLE "Payment";
ALTER TABLE "new_Payment" RENAME TO "Payment";
CREATE UNIQUE INDEX "Payment_idempotencyKey_key" ON "Payment"("idempotencyKey");
CREATE INDEX "Payment_offerId_id_idx" ON "Payment"("offerId", "id");
CREATE INDEX "Payment_state_nextCheckAt_idx" ON "Payment"("state", "nextCheckAt");
CREATE INDEX "Payment_sellerId_id_idx" ON "Payment"("sellerId", "id");
CREATE TABLE "new_WebhookEvent" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "paymentId" TEXT,
    "type" TEXT NOT NULL,
    "payload" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'PENDING',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "nextAttemptAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "leaseUntil" DATETIME,
    "lastError" TEXT,
    "lastStatusCode" INTEGER,
    "deliveredAt" DATETIME,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "sequence" INTEGER NOT NULL DEFAULT 0,
    CONSTRAINT "WebhookEvent_paymentId_fkey" FOREIGN KEY ("paymentId") REFERENCES "Payment" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);
INSERT INTO "new_WebhookEvent" ("attempts", "createdAt", "deliveredAt", "id", "lastError", "lastStatusCode", "leaseUntil", "nextAttemptAt", "payload", "paymentId", "status", "type") SELECT "attempts", "createdAt", "deliveredAt", "id", "lastError", "lastStatusCode", "leaseUntil", "nextAttemptAt", "payload", "paymentId", "status", "type" FROM "WebhookEvent";
DROP TABLE "WebhookEvent";
ALTER TABLE "new_WebhookEvent" RENAME TO "WebhookEvent";
CREATE INDEX "WebhookEvent_status_nextAttemptAt_idx" ON "WebhookEvent"("status", "nextAttemptAt");
CREATE INDEX "WebhookEvent_paymentId_sequence_idx" ON "WebhookEvent"("paymentId", "sequence");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

-- CreateIndex
CREATE INDEX "WalletCleanup_status_nextAttemptAt_idx" ON "WalletCleanup"("status", "nextAttemptAt");

-- CreateIndex
CREATE UNIQUE INDEX "WalletCleanup_paymentId_step_key" ON "WalletCleanup"("paymentId", "step");


-- Backfill (added by hand to the generated migration): events written before this migration keep
-- the order of their ids, and each payment's count continues from its last event.
UPDATE "WebhookEvent" SET "sequence" = (SELECT COUNT(*) FROM "WebhookEvent" AS "earlier" WHERE "earlier"."paymentId" = "WebhookEvent"."paymentId" AND "earlier"."id" <= "WebhookEvent"."id");
UPDATE "Payment" SET "eventCount" = (SELECT COUNT(*) FROM "WebhookEvent" WHERE "WebhookEvent"."paymentId" = "Payment"."id");
