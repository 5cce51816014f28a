-- AlterTable
ALTER TABLE "Payment" ADD COLUMN "finishSecretHash" TEXT;

