-- CreateTable
CREATE TABLE "billing"."invoice" (
    "checkout_id" TEXT NOT NULL,
    "patient_id" TEXT NOT NULL,
    "admission_id" TEXT NOT NULL,
    "event_version" BIGINT NOT NULL,
    "currency" TEXT NOT NULL,
    "total_minor" BIGINT NOT NULL,
    "discharged_at" TIMESTAMPTZ(3) NOT NULL,
    "attending_npi" TEXT NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "invoice_pkey" PRIMARY KEY ("checkout_id")
);

-- CreateTable
CREATE TABLE "billing"."invoice_line" (
    "checkout_id" TEXT NOT NULL,
    "line_number" INTEGER NOT NULL,
    "code" TEXT NOT NULL,
    "description" TEXT NOT NULL,
    "quantity" INTEGER NOT NULL,
    "unit_price_minor" BIGINT NOT NULL,
    "amount_minor" BIGINT NOT NULL,

    CONSTRAINT "invoice_line_pkey" PRIMARY KEY ("checkout_id","line_number")
);

-- CreateTable
CREATE TABLE "billing"."consumed_offset" (
    "topic" TEXT NOT NULL,
    "partition" INTEGER NOT NULL,
    "next_offset" BIGINT NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "consumed_offset_pkey" PRIMARY KEY ("topic","partition")
);

-- CreateIndex
CREATE INDEX "invoice_patient_id_idx" ON "billing"."invoice"("patient_id");

-- AddForeignKey
ALTER TABLE "billing"."invoice_line" ADD CONSTRAINT "invoice_line_checkout_id_fkey" FOREIGN KEY ("checkout_id") REFERENCES "billing"."invoice"("checkout_id") ON DELETE CASCADE ON UPDATE CASCADE;
