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
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;
