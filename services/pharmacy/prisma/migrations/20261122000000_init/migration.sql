-- CreateTable
CREATE TABLE "pharmacy"."discharge_order" (
    "checkout_id" TEXT NOT NULL,
    "patient_id" TEXT NOT NULL,
    "event_version" BIGINT NOT NULL,
    "discharged_at" TIMESTAMPTZ(3) NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "discharge_order_pkey" PRIMARY KEY ("checkout_id")
);

-- CreateTable
CREATE TABLE "pharmacy"."dispensed_medication" (
    "checkout_id" TEXT NOT NULL,
    "line_number" INTEGER NOT NULL,
    "rxnorm_code" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "dose" TEXT NOT NULL,
    "route" TEXT NOT NULL,
    "frequency" TEXT NOT NULL,
    "quantity" INTEGER NOT NULL,
    "days_supply" INTEGER NOT NULL,

    CONSTRAINT "dispensed_medication_pkey" PRIMARY KEY ("checkout_id","line_number")
);

-- CreateTable
CREATE TABLE "pharmacy"."consumed_offset" (
    "topic" TEXT NOT NULL,
    "partition" INTEGER NOT NULL,
    "next_offset" BIGINT NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "consumed_offset_pkey" PRIMARY KEY ("topic","partition")
);

-- CreateIndex
CREATE INDEX "discharge_order_patient_id_idx" ON "pharmacy"."discharge_order"("patient_id");

-- AddForeignKey
ALTER TABLE "pharmacy"."dispensed_medication" ADD CONSTRAINT "dispensed_medication_checkout_id_fkey" FOREIGN KEY ("checkout_id") REFERENCES "pharmacy"."discharge_order"("checkout_id") ON DELETE CASCADE ON UPDATE CASCADE;
