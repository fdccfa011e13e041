import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { Broker } from '../broker';
import { KAFKA_APIS } from './apis';
import {
  ApiKey,
  isFlexible,
  type KafkaContext,
  type KafkaSession,
  type ResponseBody,
} from './apis/kafka-api';
import { KafkaReader, MalformedKafkaRequest } from './protocol/kafka-reader';
import { KafkaWriter } from './protocol/kafka-writer';
import type { RequestBudget } from './request-budget';

export interface KafkaConnectionOptions {
  broker: Broker;
  logger: Logger;
  advertised: { host: string; port: number };
  /** Largest request frame; a bigger size prefix closes the connection (Kafka's socket.request.max.bytes). */
  maxRequestBytes: number;
  /** Requests read ahead of their responses; past it the socket stops being read until answers go out. */
  maxInFlight: number;
  /** Request bytes held across every connection; when it is full this one stops reading until room is made. */
  budget: RequestBudget;
  /** Called each time this connection has to wait for the budget. */
  onBudgetFull(): void;
  /** Called with each API version a client uses for the first time on this connection. */
  onVersionUsed(clientId: string, api: string, version: number): void;
}

interface Pending {
  correlationId: number;
  api: string;
  /** The answer is in a flexible version: tagged fields end its body. */
  flexible: boolean;
  /** Response header v1 (tagged fields after the correlation id): flexible versions but ApiVersions'. */
  headerTags: boolean;
  /** Its size, reserved in the budget until the answer is written. */
  bytes: number;
  answer: Promise<ResponseBody>;
}

/**
 * One client connection: size-prefixed frames in, answers out in the order
 * the requests came, as Kafka guarantees. Requests start as they arrive, so
 * pipelined produces append in order while their durability is awaited
 * together. A frame that cannot be read closes the connection with a log
 * line; nothing a client sends reaches past this class as an exception.
 */
export class KafkaConnection {
  private buffered: Buffer[] = [];
  private bufferedBytes = 0;
  private readonly queue: Pending[] = [];
  private writing = false;
  private readonly aborts = new AbortController();
  private readonly used = new Set<number>();
  private readonly session: KafkaSession & { clientId: string };
  private readonly context: KafkaContext;
  private closed = false;
  /** Budget bytes reserved for the frame being read (its size prefix is known). */
  private reserved = 0;
  /** Set while waiting for room in the budget: stops waiting. */
  private cancelWait: (() => void) | undefined;

  constructor(
    private readonly socket: Socket,
    private readonly options: KafkaConnectionOptions,
  ) {
    const host = (socket.remoteAddress ?? '').replace(/^::ffff:/, '');
    this.session = {
      clientId: '',
      host,
      admin: false,
      saslMechanism: undefined,
      closeAfterResponse: false,
      closed: this.aborts.signal,
    };
    this.context = {
      broker: options.broker,
      session: this.session,
      advertised: options.advertised,
      logger: options.logger,
    };
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (error) =>
      this.options.logger.debug({ err: error, host }, 'kafka connection error'),
    );
    socket.on('close', () => this.onClosed());
  }

  /** Ends the connection now (broker shutdown). */
  destroy(): void {
    this.socket.destroy();
    this.onClosed();
  }

  private onClosed(): void {
    if (this.closed) return;
    this.closed = true;
    this.aborts.abort();
    this.buffered = [];
    this.cancelWait?.();
    this.cancelWait = undefined;
    const held = this.queue.reduce((sum, pending) => sum + pending.bytes, this.reserved);
    this.queue.length = 0;
    this.reserved = 0;
    this.options.budget.release(held);
  }

  /** Reads the socket unless too many answers are owed or the budget has no room. */
  private updateReading(): void {
    if (this.closed) return;
    const read = this.cancelWait === undefined && this.queue.length < this.options.maxInFlight;
    if (read && this.socket.isPaused()) this.socket.resume();
    else if (!read && !this.socket.isPaused()) this.socket.pause();
  }

  private close(reason: string, details: object = {}): void {
    this.options.logger.warn(
      { host: this.session.host, clientId: this.session.clientId, ...details },
      `kafka connection closed: ${reason}`,
    );
    this.destroy();
  }

  private onData(chunk?: Buffer): void {
    if (this.closed) return;
    if (chunk) {
      this.buffered.push(chunk);
      this.bufferedBytes += chunk.length;
    }
    while (!this.closed && this.cancelWait === undefined && this.bufferedBytes >= 4) {
      const head = this.buffered.length === 1 ? this.buffered[0] : this.flatten();
      const size = head.readInt32BE(0);
      if (size < 8 || size > this.options.maxRequestBytes) {
        this.close(`request size ${size} is outside 8..${this.options.maxRequestBytes} bytes`, {
          size,
        });
        return;
      }
      if (this.reserved === 0 && !this.reserve(size)) return;
      if (this.bufferedBytes < 4 + size) return;
      const all = this.flatten();
      const frame = all.subarray(4, 4 + size);
      const rest = all.subarray(4 + size);
      this.buffered = rest.length > 0 ? [rest] : [];
      this.bufferedBytes = rest.length;
      this.onFrame(frame);
    }
  }

  /** Reserves a request's size before its body is buffered; false when it has to wait for room. */
  private reserve(size: number): boolean {
    if (this.options.budget.tryTake(size)) {
      this.reserved = size;
      return true;
    }
    this.options.onBudgetFull();
    // onClosed cancels the wait, so an admission always finds the connection open.
    this.cancelWait = this.options.budget.waitFor(size, () => {
      this.cancelWait = undefined;
      this.reserved = size;
      // Not inside the releasing connection's call: go on reading on a later tick.
      queueMicrotask(() => {
        this.updateReading();
        this.onData();
      });
    });
    this.updateReading();
    return false;
  }

  private flatten(): Buffer {
    const all = this.buffered.length === 1 ? this.buffered[0] : Buffer.concat(this.buffered);
    this.buffered = [all];
    return all;
  }

  private onFrame(frame: Buffer): void {
    const input = new KafkaReader(frame);
    let key: number;
    let version: number;
    let correlationId: number;
    try {
      key = input.int16();
      version = input.int16();
      correlationId = input.int32();
      this.session.clientId = input.nullableString() ?? '';
    } catch (error) {
      this.close('unreadable request header', { error: (error as Error).message });
      return;
    }
    const api = KAFKA_APIS.get(key);
    if (!api) {
      this.close(`unknown API key ${key}`, { apiKey: key, apiVersion: version });
      return;
    }
    const answersAnyVersion = key === ApiKey.ApiVersions;
    if (!answersAnyVersion && (version < api.minVersion || version > api.maxVersion)) {
      this.close(
        `${api.name} v${version} is not served (v${api.minVersion}–${api.maxVersion} are)`,
        {
          apiKey: key,
          apiVersion: version,
        },
      );
      return;
    }
    const flexible = isFlexible(api, version);
    if (flexible) {
      // Request header v2: the client id stays a classic string, then tagged fields.
      input.flexible = true;
      try {
        input.skipTags();
      } catch (error) {
        this.close('unreadable request header', { error: (error as Error).message });
        return;
      }
    }
    // Per key and version, so a client's ApiVersions v3 then v2 both show.
    if (!this.used.has(key * 1000 + version)) {
      this.used.add(key * 1000 + version);
      this.options.onVersionUsed(this.session.clientId, api.name, version);
    }
    let answer: Promise<ResponseBody>;
    try {
      answer = Promise.resolve(api.handle(input, version, this.context));
    } catch (error) {
      answer = Promise.reject(error);
    }
    this.queue.push({
      correlationId,
      api: api.name,
      flexible,
      // ApiVersions answers with header v0 in every version, so any client can read it.
      headerTags: flexible && key !== ApiKey.ApiVersions,
      bytes: this.reserved,
      answer: answer.catch((error: unknown) => this.failed(api.name, version, error)),
    });
    this.reserved = 0;
    this.updateReading();
    void this.drain();
  }

  /** A request that did not parse closes the connection; an error of ours is logged as one. */
  private failed(api: string, version: number, error: unknown): never {
    if (error instanceof MalformedKafkaRequest)
      this.close(`malformed ${api} v${version} request`, { error: error.message });
    else {
      this.options.logger.error(
        { err: error, api, version, clientId: this.session.clientId },
        'kafka request failed inside the broker',
      );
      this.destroy();
    }
    throw CLOSED;
  }

  private async drain(): Promise<void> {
    if (this.writing) return;
    this.writing = true;
    try {
      while (this.queue.length > 0 && !this.closed) {
        const next = this.queue[0];
        let body: ResponseBody;
        try {
          body = await next.answer;
        } catch {
          return; // the connection is closed
        }
        this.queue.shift();
        if (this.closed) return;
        this.options.budget.release(next.bytes);
        if (body && !this.write(next, body)) return;
        if (this.session.closeAfterResponse) {
          this.socket.end();
          this.onClosed();
          return;
        }
        this.updateReading();
      }
    } finally {
      this.writing = false;
    }
  }

  /** Writes one answer; an answer that cannot be encoded is a bug of ours: logged, and the connection closed. */
  private write(request: Pending, body: (out: KafkaWriter) => void): boolean {
    const out = new KafkaWriter();
    out.int32(0).int32(request.correlationId);
    out.flexible = request.flexible;
    if (request.headerTags) out.tags();
    try {
      body(out);
      out.tags();
    } catch (error) {
      this.options.logger.error(
        { err: error, api: request.api, clientId: this.session.clientId },
        'kafka response could not be encoded',
      );
      this.destroy();
      return false;
    }
    out.patchInt32(0, out.length - 4);
    this.socket.write(out.view());
    return true;
  }
}

const CLOSED = new Error('connection closed');
