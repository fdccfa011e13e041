import 'reflect-metadata';
import {
  Controller,
  Inject,
  Module,
  type INestApplicationContext,
  type INestMicroservice,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { IsolationPrecaution, partitionForKey, PatientCheckedOut } from '@hospital/proto';
import { startBroker, type BrokerProcess } from '@hospital/processes';
import { lastValueFrom } from 'rxjs';
import { Admin, BrokerConnection, type IncomingRecord } from '@hospital/broker-client';
import {
  BROKER_CLIENT,
  BrokerClientProxy,
  BrokerBatchContext,
  BrokerContext,
  BrokerModule,
  BrokerServer,
  type BackendConnectionOptions,
  type BrokerProtocol,
} from '../src';

interface Received {
  checkoutId: string;
  key: string | undefined;
  partition: number;
  offset: number;
  source: string | undefined;
}

const received: Received[] = [];
let onReceived: () => void = () => {};

@Controller()
class CheckoutListener {
  @EventPattern('patient.checkout')
  async onCheckout(@Payload() value: Buffer, @Ctx() context: BrokerContext): Promise<void> {
    const event = PatientCheckedOut.decode(value);
    received.push({
      checkoutId: event.checkoutId,
      key: context.getKey()?.toString(),
      partition: context.getPartition(),
      offset: context.getOffset(),
      source: context.getHeaders().source?.toString(),
    });
    onReceived();
  }
}

const audited: { partition: number; offsets: number[]; lastOffset: number }[] = [];
let onAudited: () => void = () => {};

@Controller()
class AuditListener {
  @EventPattern('patient.audit', { batch: true })
  async onBatch(@Payload() records: IncomingRecord[], @Ctx() context: BrokerBatchContext) {
    audited.push({
      partition: context.getPartition(),
      offsets: records.map((record) => record.offset),
      lastOffset: context.getLastOffset(),
    });
    onAudited();
  }
}

@Module({ controllers: [CheckoutListener, AuditListener] })
class ListenerModule {}

class Publisher {
  constructor(@Inject(BROKER_CLIENT) readonly client: BrokerClientProxy) {}
}

const PROTOCOLS: BrokerProtocol[] = ['grpc', 'kafka'];

describe.each(PROTOCOLS)(
  'nest-broker over %s: an @EventPattern handler consumes through the transport, a ClientProxy emits',
  (protocol) => {
    let broker: BrokerProcess;
    let listener: INestMicroservice;
    let publisher: INestApplicationContext;
    /** The same transport over either protocol: only the connection differs. */
    const connectionAs = (clientId: string): BackendConnectionOptions =>
      protocol === 'kafka'
        ? { protocol, brokers: [broker.kafkaAddress as string], clientId }
        : { broker: broker.address, clientId };
    const startListener = (
      consumer: Partial<ConstructorParameters<typeof BrokerServer>[0]['consumer']>,
    ) =>
      NestFactory.createMicroservice(ListenerModule, {
        logger: false,
        strategy: new BrokerServer({
          connection: connectionAs(`${consumer.groupId ?? 'billing'}-test`),
          consumer: {
            groupId: 'billing',
            fromBeginning: true,
            commitMode: 'sync',
            sessionTimeoutMs: 3_000,
            heartbeatIntervalMs: 300,
            ...consumer,
          },
        }),
      });

    beforeAll(async () => {
      received.length = 0;
      audited.length = 0;
      broker = await startBroker({
        env: {
          BROKER_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
          BROKER_TOPICS: 'patient.checkout:4,patient.audit:2',
          BROKER_KAFKA_PORT: protocol === 'kafka' ? '0' : '',
        },
      });
      listener = await startListener({});
      await listener.listen();
      @Module({
        imports: [BrokerModule.forRoot({ connection: connectionAs('checkout-test') })],
        providers: [Publisher],
      })
      class PublisherModule {}
      publisher = await NestFactory.createApplicationContext(PublisherModule, { logger: false });
    });

    afterAll(async () => {
      await publisher?.close();
      await listener?.close();
      await broker?.stop();
      broker?.cleanup();
    });

    it('delivers each emitted event (or batch) to its handler with partition, offset, key and headers, and commits after handling', async () => {
      const client = publisher.get(Publisher).client;
      const events = Array.from({ length: 30 }, (_, i) =>
        PatientCheckedOut.fromPartial({
          eventId: `e-${i}`,
          eventVersion: 1,
          checkoutId: `CO-${i}`,
          patientId: `P-${i % 5}`,
          location: {
            ward: 'CARD-4B',
            room: '412',
            bed: 'A',
            isolation: IsolationPrecaution.ISOLATION_PRECAUTION_NONE,
          },
        }),
      );
      const all = new Promise<void>(
        (resolve) => (onReceived = () => received.length >= events.length && resolve()),
      );
      for (const event of events) {
        await lastValueFrom(
          client.emit('patient.checkout', {
            key: event.patientId,
            value: Buffer.from(PatientCheckedOut.encode(event).finish()),
            headers: { source: 'checkout' },
          }),
        );
      }
      await all;

      expect(received.map((record) => record.checkoutId).sort()).toEqual(
        events.map((event) => event.checkoutId).sort(),
      );
      for (const record of received) {
        expect(record.partition).toBe(partitionForKey(record.key as string, 4));
        expect(record.source).toBe('checkout');
      }
      const perPartition = new Map<number, number[]>();
      for (const record of received)
        perPartition.set(record.partition, [
          ...(perPartition.get(record.partition) ?? []),
          record.offset,
        ]);
      for (const offsets of perPartition.values())
        expect(offsets).toEqual(offsets.map((_, index) => index));

      // A { batch: true } handler gets each fetched batch of one partition, in offset order.
      const audits = new Promise<void>(
        (resolve) =>
          (onAudited = () =>
            audited.reduce((sum, batch) => sum + batch.offsets.length, 0) >= 40 && resolve()),
      );
      const acknowledged = await client.sendRecords(
        'patient.audit',
        Array.from({ length: 40 }, (_, i) => ({ key: `P-${i % 7}`, value: Buffer.from(`${i}`) })),
      );
      await audits;
      // The producer gave every record its own partition and offset, in the order sent.
      expect(
        new Set(acknowledged.map(({ partition, offset }) => `${partition}/${offset}`)).size,
      ).toBe(40);
      expect(acknowledged.map(({ partition }) => partition)).toEqual(
        Array.from({ length: 40 }, (_, i) => partitionForKey(`P-${i % 7}`, 2)),
      );
      for (const { partition, offset } of acknowledged)
        expect(
          audited.some((batch) => batch.partition === partition && batch.offsets.includes(offset)),
        ).toBe(true);
      expect(audited.length).toBeLessThan(40);
      const auditOffsets = new Map<number, number[]>();
      for (const batch of audited) {
        expect(batch.lastOffset).toBe(batch.offsets.at(-1));
        auditOffsets.set(batch.partition, [
          ...(auditOffsets.get(batch.partition) ?? []),
          ...batch.offsets,
        ]);
      }
      for (const offsets of auditOffsets.values())
        expect(offsets).toEqual(offsets.map((_, index) => index));

      // Closing the microservice stops the member gracefully: its offsets are committed.
      await listener.close();
      const connection = new BrokerConnection({ broker: broker.address });
      const committed = await new Admin(connection).fetchOffsets('billing', 'patient.checkout');
      const auditCommitted = await new Admin(connection).fetchOffsets('billing', 'patient.audit');
      connection.close();
      expect(auditCommitted.map((entry) => entry.offset)).toEqual(
        [0, 1].map((partition) => auditOffsets.get(partition)?.length ?? -1),
      );
      expect(committed.map((entry) => entry.offset)).toEqual(
        [0, 1, 2, 3].map((partition) => perPartition.get(partition)?.length ?? -1), // -1: nothing to commit
      );
    });

    it('resumes each partition from the offset stored with the rows when it is ahead of the commit', async () => {
      received.length = 0;
      audited.length = 0;
      const ends = new Map([
        [0, 0],
        [1, 0],
      ]);
      const connection = new BrokerConnection({ broker: broker.address });
      for (const { partition, logEndOffset } of (
        await new Admin(connection).describeTopic('patient.audit')
      ).partitions)
        ends.set(partition, logEndOffset);
      const total = [...ends.values()].reduce((sum, end) => sum + Math.max(0, end - 3), 0);
      const audits = new Promise<void>(
        (resolve) =>
          (onAudited = () =>
            audited.reduce((sum, batch) => sum + batch.offsets.length, 0) >= total && resolve()),
      );
      const resumer = await startListener({
        groupId: 'resumer',
        storedOffset: async ({ topic }) => (topic === 'patient.audit' ? 3 : undefined),
      });
      await resumer.listen();
      await audits;
      await resumer.close();
      for (const [partition, end] of ends) {
        const offsets = audited
          .filter((batch) => batch.partition === partition)
          .flatMap((batch) => batch.offsets);
        expect(offsets).toEqual(Array.from({ length: Math.max(0, end - 3) }, (_, i) => i + 3));
      }
      // What was skipped counts as processed: the commit reaches each log end.
      const committed = await new Admin(connection).fetchOffsets('resumer', 'patient.audit');
      connection.close();
      expect(committed.map((entry) => entry.offset)).toEqual(
        [0, 1].map((partition) => ends.get(partition)),
      );
    });
  },
);
