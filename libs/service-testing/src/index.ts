// The consumer services' shared test setup (test-only; see docs/architecture.md, "Packages").
export {
  CHECKOUT_TOPIC,
  checkoutRecord,
  startConsumerServiceUnderTest,
  type ConsumerServiceUnderTest,
  type ServiceEnvironment,
} from './consumer-service-under-test';
