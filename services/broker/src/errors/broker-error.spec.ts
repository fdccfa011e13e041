import { ErrorReason } from '@hospital/proto';
import { BrokerError } from './broker-error';

describe('broker/errors/BrokerError', () => {
  it('bounds what it echoes back, so hostile names cannot bloat the trailers', () => {
    const name = 'x'.repeat(300_000);
    const error = new BrokerError(
      ErrorReason.UNKNOWN_TOPIC_OR_PARTITION,
      `topic ${name} does not exist`,
      {
        topic: name,
      },
    );
    expect(error.message.length).toBeLessThan(1_100);
    expect(error.message).toMatch(/… \(299\d{3} more characters\)$/);
    expect(error.metadata.topic.length).toBeLessThan(300);
  });

  it('replaces lone surrogates, which would make grpc-js throw while sending the status', () => {
    const error = new BrokerError(ErrorReason.INVALID_REQUEST, 'name \ud800 is bad', {
      name: '\udc00',
    });
    expect(() => encodeURI(error.message)).not.toThrow();
    expect(error.message).toBe('name \ufffd is bad');
    expect(error.metadata.name).toBe('\ufffd');
    expect(new BrokerError(ErrorReason.INVALID_REQUEST, 'ok 🏥').message).toBe('ok 🏥');
  });
});
