/**
 * Input-format decoders: native events, KServe InferenceLogger CloudEvents (Kafka binary /
 * structured and HTTP), bare Open Inference Protocol / KServe v1 bodies, and Seldon Core 2 model
 * topics (OIP JSON or protobuf). See docs/serving-formats.md.
 */
export {
  createDecoder,
  createDecoderRuntime,
  type DecoderRuntime,
  type DecoderRuntimeHooks,
} from './create-decoder.js';
export type { UnpairedCause } from './pairer.js';
export {
  createHttpCloudEventIngest,
  decodeHttpCloudEvent,
  type HttpCloudEventIngest,
  type HttpCloudEventResult,
} from './http-cloudevents.js';
export type { HttpHeaders } from './cloudevents.js';
export { KSERVE_REQUEST_TYPE, KSERVE_RESPONSE_TYPE } from './cloudevents.js';
export {
  compileDecoderOptions,
  decoderOptionsSchema,
  modelMappingSchema,
  INPUT_FORMATS,
  type CompiledDecoderOptions,
  type CompiledModelMapping,
  type DecoderOptions,
  type DecoderOptionsInput,
  type InputFormat,
  type ModelMapping,
} from './options.js';
export { predictionId, type InferenceHalf } from './to-predictions.js';
export { parseSeldonTopic } from './seldon.js';
