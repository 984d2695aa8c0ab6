// The C API of librdkafka (apt: librdkafka-dev), including the mock cluster used as the
// embedded broker in tests, the demo and `dev-broker`.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

// Variadic C functions are not imported into Swift: this pushes one (error, rtt) pair.
static inline rd_kafka_resp_err_t webhook_bridge_mock_broker_push_request_error(
    rd_kafka_mock_cluster_t *mcluster, int32_t broker_id, int16_t api_key, rd_kafka_resp_err_t err, int rtt_ms) {
    return rd_kafka_mock_broker_push_request_error_rtts(mcluster, broker_id, api_key, 1, err, rtt_ms);
}
