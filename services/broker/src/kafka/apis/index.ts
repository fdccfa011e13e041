import { apiVersionsApi } from './api-versions';
import { fetchApi } from './fetch';
import { findCoordinatorApi } from './find-coordinator';
import { deleteGroupsApi, describeGroupsApi, listGroupsApi } from './group-admin';
import { heartbeatApi, joinGroupApi, leaveGroupApi, syncGroupApi } from './group-membership';
import type { KafkaApi } from './kafka-api';
import { listOffsetsApi } from './list-offsets';
import { metadataApi } from './metadata';
import { offsetCommitApi, offsetFetchApi } from './offsets';
import { produceApi } from './produce';
import { saslAuthenticateApi, saslHandshakeApi } from './sasl';
import { createPartitionsApi, createTopicsApi, deleteTopicsApi } from './topics';

const SERVED: KafkaApi[] = [
  produceApi,
  fetchApi,
  listOffsetsApi,
  metadataApi,
  offsetCommitApi,
  offsetFetchApi,
  findCoordinatorApi,
  joinGroupApi,
  heartbeatApi,
  leaveGroupApi,
  syncGroupApi,
  describeGroupsApi,
  listGroupsApi,
  saslHandshakeApi,
  createTopicsApi,
  deleteTopicsApi,
  saslAuthenticateApi,
  createPartitionsApi,
  deleteGroupsApi,
];
SERVED.push(apiVersionsApi(() => SERVED));

/** Every API this listener serves, by key. */
export const KAFKA_APIS: ReadonlyMap<number, KafkaApi> = new Map(
  SERVED.map((api) => [api.key, api]),
);
