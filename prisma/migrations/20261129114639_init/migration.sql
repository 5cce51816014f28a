-- CreateTable
CREATE TABLE "Seller" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "walletAddressUrl" TEXT NOT NULL,
    "keyId" TEXT NOT NULL,
    "privateKeyPath" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "Payment" (
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
    CONSTRAINT "Payment_sellerId_fkey" FOREIGN KEY ("sellerId") REFERENCES "Seller" ("id") ON DELETE RESTRICT ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "IncomingPayment" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "sellerId" TEXT NOT NULL,
    "incomingPaymentId" TEXT NOT NULL,
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

-- CreateTable
CREATE TABLE "WebhookEvent" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "paymentId" TEXT NOT NULL,
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
    CONSTRAINT "WebhookEvent_paymentId_fkey" FOREIGN KEY ("paymentId") REFERENCES "Payment" ("id") ON DELETE RESTRICT ON UPDATE CASCADE
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
