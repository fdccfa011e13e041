-- CreateTable
CREATE TABLE "housekeeping"."turnover_task" (
    "checkout_id" TEXT NOT NULL,
    "ward" TEXT NOT NULL,
    "room" TEXT NOT NULL,
    "bed" TEXT NOT NULL,
    "priority" TEXT NOT NULL,
    "protocol" TEXT NOT NULL,
    "due_by" TIMESTAMPTZ(3) NOT NULL,
    "event_version" BIGINT NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "turnover_task_pkey" PRIMARY KEY ("checkout_id")
);

-- CreateTable
CREATE TABLE "housekeeping"."consumed_offset" (
    "topic" TEXT NOT NULL,
    "partition" INTEGER NOT NULL,
    "next_offset" BIGINT NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "consumed_offset_pkey" PRIMARY KEY ("topic","partition")
);

-- CreateIndex
CREATE INDEX "turnover_task_ward_room_idx" ON "housekeeping"."turnover_task"("ward", "room");
