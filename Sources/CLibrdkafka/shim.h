// The C API of librdkafka (apt: librdkafka-dev), including the mock cluster used as the
// embedded broker in tests, the demo and `dev-broker`.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
