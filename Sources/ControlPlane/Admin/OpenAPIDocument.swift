/// The admin API as an OpenAPI 3 document, served at `/openapi.yaml`. A test checks that its
/// paths and methods are exactly the router's.
enum OpenAPIDocument {
    static let yaml = #"""
        openapi: 3.0.3
        info:
          title: webhook-bridge admin API
          version: 0.1.0
          description: |
            Webhooks, custom topics and site configuration of the OMS webhook guide, kept in the
            control topic. The site token goes in the body's `token` or as `Authorization: Bearer`.
            Errors are `{"error":{"code":…,"message":…}}`; a 400 names the field. A token that
            matches no site is a 401, another site's a 403; after 10 tokens that match no site
            within a minute, a client address gets 429 (`Retry-After`) until the minute has
            passed. A site's quotas (webhooks, custom topics) answer 409 `quota_exceeded`; a replay
            while the webhook's last one is in flight, 429 `replay_in_flight`. A change to a webhook,
            custom topic or site configuration that the config file manages answers 409
            `managed_by_config`, naming what to edit in the file (statuses and replays stay the API's).
            /health, /ready, /metrics, /status and /explain are the operators': with `http.ops_listen`
            set they are served on that listener instead (404 here).
        security:
          - bearer: []
        paths:
          /health:
            get:
              summary: Liveness
              security: []
              responses:
                "200": {description: Running, content: {application/json: {schema: {type: object}}}}
          /ready:
            get:
              summary: Readiness (control view loaded, group joined, assignment held)
              security: []
              responses:
                "200": {description: Ready, content: {application/json: {schema: {type: object}}}}
                "503": {description: Not ready, content: {application/json: {schema: {type: object}}}}
          /metrics:
            get:
              summary: Prometheus metrics
              security: []
              responses:
                "200": {description: Metrics in the Prometheus text format, content: {text/plain: {schema: {type: string}}}}
          /status:
            get:
              summary: What this instance is doing (for operators, like /metrics)
              security: []
              responses:
                "200":
                  description: Every webhook's status with this instance's in-flight, queued and lag counts, and the consumer lag of its partitions
                  content:
                    application/json:
                      schema:
                        type: object
                        required: [ready, webhooks, partitions]
                        properties:
                          ready: {type: boolean}
                          webhooks:
                            type: array
                            items:
                              type: object
                              required: [id, site_id, status, in_flight, queued, parked_partitions, cursor_lag, retries, acknowledged]
                              properties:
                                id: {type: string}
                                site_id: {type: string}
                                status: {type: string, enum: [enabled, paused, disabled, dead]}
                                pause: {type: string, enum: [auto, manual]}
                                in_flight: {type: integer}
                                queued: {type: integer}
                                parked_partitions: {type: integer}
                                cursor_lag: {type: integer}
                                retries: {type: integer}
                                acknowledged: {type: integer}
                                filtered: {type: integer, description: "Messages its filter kept from it here (webhooks with a filter)"}
                                next_retry_at: {type: number}
                                last_error: {type: string}
                          partitions:
                            type: array
                            items:
                              type: object
                              required: [topic, partition, lag]
                              properties:
                                topic: {type: string}
                                partition: {type: integer}
                                lag: {type: integer}
          /explain:
            get:
              summary: Where one source record went, per webhook (for operators, like /status)
              description: |
                Reads the record from Kafka, routes it as delivery does, and gives every webhook of the
                sites it concerns a verdict from this instance's lanes, the webhooks' cursors, the
                group's committed offset and the attempts topic (searched from 1 minute before the
                record's timestamp to 1 hour after it, at most 20,000 records and 10 s). Never the
                record's value, a URL or a key.
              security: []
              parameters:
                - {name: topic, in: query, required: true, description: A source topic of the routes, schema: {type: string, minLength: 1}}
                - {name: partition, in: query, required: true, schema: {type: integer, minimum: 0, maximum: 2147483647}}
                - {name: offset, in: query, required: true, schema: {type: integer, format: int64, minimum: 0}}
              responses:
                "200":
                  description: The record, its routes and messages, and a verdict per webhook
                  content:
                    application/json:
                      schema:
                        type: object
                        required: [record, partition, routing, webhooks]
                        properties:
                          record:
                            type: object
                            required: [topic, partition, offset, tombstone]
                            properties:
                              topic: {type: string}
                              partition: {type: integer}
                              offset: {type: integer, format: int64}
                              key: {type: string, nullable: true, description: The record key as UTF-8 text}
                              key_base64: {type: string, description: The record key when it is not UTF-8}
                              timestamp: {type: number, description: Unix seconds}
                              message_id_header: {type: string}
                              tombstone: {type: boolean}
                          partition:
                            type: object
                            required: [low_watermark, high_watermark, committed_offset, held_here]
                            properties:
                              low_watermark: {type: integer, format: int64}
                              high_watermark: {type: integer, format: int64}
                              committed_offset: {type: integer, format: int64, nullable: true}
                              held_here: {type: boolean, description: Whether this instance holds the partition}
                          routing:
                            type: object
                            required: [outcome, routes, messages]
                            properties:
                              outcome: {type: string, enum: [routed, dead_lettered, skipped]}
                              dead_letter_reason: {type: string}
                              skip_reason: {type: string, description: Why the routes leave the record out (a Debezium delete or tombstone)}
                              routes:
                                type: array
                                items:
                                  type: object
                                  required: [source, format, site, topic, matched, webhook_topics]
                                  properties:
                                    source: {type: string}
                                    format: {type: string, enum: [json, avro, json_sr]}
                                    envelope: {type: string, enum: [debezium]}
                                    site: {type: object, additionalProperties: {type: string}}
                                    topic: {type: object, additionalProperties: {type: string}}
                                    payload_field: {type: string}
                                    matched: {type: boolean}
                                    site_id: {type: string}
                                    webhook_topics: {type: array, items: {type: string}}
                                    reason: {type: string}
                              messages:
                                type: array
                                items:
                                  type: object
                                  required: [site_id, webhook_topic, message_id, sequence]
                                  properties:
                                    site_id: {type: string}
                                    webhook_topic: {type: string}
                                    message_id: {type: string}
                                    sequence: {type: string}
                                    not_before: {type: number}
                          webhooks:
                            type: array
                            items:
                              type: object
                              required: [id, site_id, status, verdict, detail, topics, cursor, messages]
                              properties:
                                id: {type: string}
                                site_id: {type: string}
                                status: {type: string, enum: [enabled, paused, disabled, dead]}
                                pause: {type: string, enum: [auto, manual]}
                                verdict: {type: string, enum: [delivered, pending, parked, not_subscribed, paused, disabled, dead, dead_lettered, skipped]}
                                detail: {type: string}
                                topics: {type: array, items: {type: string}}
                                cursor: {type: integer, format: int64, nullable: true, description: The webhook's stored cursor for the partition}
                                messages:
                                  type: array
                                  items:
                                    type: object
                                    required: [message_id, webhook_topic]
                                    properties:
                                      message_id: {type: string}
                                      webhook_topic: {type: string}
                                lane:
                                  type: object
                                  description: This instance's lane, when it holds the partition
                                  required: [mode, standing, position]
                                  properties:
                                    mode: {type: string, enum: [live, parking, parked, catching_up, joining]}
                                    standing: {type: string, enum: [queued, in_flight, held, at_or_after_cursor, not_read, settled]}
                                    position: {type: integer, format: int64}
                                attempts:
                                  type: array
                                  items:
                                    type: object
                                    required: [attempt, outcome, latency_ms, at, message_ids]
                                    properties:
                                      attempt: {type: integer}
                                      outcome: {type: string}
                                      status: {type: integer}
                                      error: {type: string}
                                      latency_ms: {type: integer}
                                      at: {type: number}
                                      batch_id: {type: string}
                                      message_ids: {type: array, items: {type: string}}
                          attempts_search:
                            type: object
                            required: [topic, from, until, records_read, complete]
                            properties:
                              topic: {type: string}
                              from: {type: number}
                              until: {type: number}
                              records_read: {type: integer}
                              complete: {type: boolean}
                "400": {$ref: "#/components/responses/Error"}
                "404": {$ref: "#/components/responses/Error"}
                "503": {$ref: "#/components/responses/Error"}
          /openapi.yaml:
            get:
              summary: This document
              security: []
              responses:
                "200": {description: The OpenAPI document, content: {application/yaml: {schema: {type: string}}}}
          /webhooks:
            post:
              summary: Create a webhook
              requestBody:
                required: true
                content:
                  application/json:
                    schema:
                      type: object
                      additionalProperties: false
                      required: [site_id, webhook]
                      properties:
                        site_id: {type: string}
                        token: {type: string}
                        webhook: {$ref: "#/components/schemas/NewWebhook"}
              responses:
                "201":
                  description: Created; `hash_key` only when it was generated (shown once)
                  content:
                    application/json:
                      schema:
                        type: object
                        properties:
                          webhook: {$ref: "#/components/schemas/Webhook"}
                          hash_key: {$ref: "#/components/schemas/HashKey"}
                "400": {$ref: "#/components/responses/Error"}
                "401": {$ref: "#/components/responses/Error"}
                "403": {$ref: "#/components/responses/Error"}
                "409": {$ref: "#/components/responses/Error"}
                "413": {$ref: "#/components/responses/Error"}
                "429": {$ref: "#/components/responses/Error"}
            get:
              summary: List a site's webhooks
              parameters:
                - {name: site_id, in: query, required: false, schema: {type: string}}
              responses:
                "200":
                  description: The site's webhooks
                  content:
                    application/json:
                      schema:
                        type: object
                        properties:
                          webhooks: {type: array, items: {$ref: "#/components/schemas/Webhook"}}
                "401": {$ref: "#/components/responses/Error"}
                "403": {$ref: "#/components/responses/Error"}
                "429": {$ref: "#/components/responses/Error"}
          /webhooks/{id}:
            parameters:
              - {name: id, in: path, required: true, schema: {type: string}}
            get:
              summary: Show a webhook
              parameters:
                - {name: site_id, in: query, required: false, schema: {type: string}}
              responses:
                "200": {$ref: "#/components/responses/WebhookResponse"}
                "401": {$ref: "#/components/responses/Error"}
                "403": {$ref: "#/components/responses/Error"}
                "429": {$ref: "#/components/responses/Error"}
                "404": {$ref: "#/components/responses/Error"}
            patch:
              summary: Change url, topics, method or options; a new hash_key rotates the keys (h0 new, h1 and h2 older)
              requestBody:
                required: true
                content:
                  application/json:
                    schema:
                      type: object
                      additionalProperties: false
                      properties:
                        site_id: {type: string}
                        token: {type: string}
                        url: {type: string}
                        topics: {type: array, items: {type: string}, minItems: 1}
                        http_method: {$ref: "#/components/schemas/Method"}
                        options: {$ref: "#/components/schemas/Options"}
                        hash_key: {$ref: "#/components/schemas/HashKey"}
                        headers: {$ref: "#/components/schemas/Headers"}
                        auth: {$ref: "#/components/schemas/Auth"}
                        tls: {$ref: "#/components/schemas/TLS"}
                        filter: {$ref: "#/components/schemas/Filter"}
                        webhook:
                          type: object
                          additionalProperties: false
                          properties:
                            url: {type: string}
                            topics: {type: array, items: {type: string}, minItems: 1}
                            http_method: {$ref: "#/components/schemas/Method"}
                            options: {$ref: "#/components/schemas/Options"}
                            hash_key: {$ref: "#/components/schemas/HashKey"}
                            headers: {$ref: "#/components/schemas/Headers"}
                            auth: {$ref: "#/components/schemas/Auth"}
                            tls: {$ref: "#/components/schemas/TLS"}
                            filter: {$ref: "#/components/schemas/Filter"}
              responses:
                "200": {$ref: "#/components/responses/WebhookResponse"}
                "400": {$ref: "#/components/responses/Error"}
                "401": {$ref: "#/components/responses/Error"}
                "403": {$ref: "#/components/responses/Error"}
                "429": {$ref: "#/components/responses/Error"}
                "404": {$ref: "#/components/responses/Error"}
                "409": {$ref: "#/components/responses/Error"}
                "410": {$ref: "#/components/responses/Error"}
                "413": {$ref: "#/components/responses/Error"}
            delete:
              summary: Delete a webhook with its status and cursors
              responses:
                "204": {description: Deleted}
                "401": {$ref: "#/components/responses/Error"}
                "403": {$ref: "#/components/responses/Error"}
                "429": {$ref: "#/components/responses/Error"}
                "404": {$ref: "#/components/responses/Error"}
                "409": {$ref: "#/components/responses/Error"}
          /webhooks/{id}/status:
            parameters:
              - {name: id, in: path, required: true, schema: {type: string}}
            patch:
              summary: Pause (manual), disable or enable a webhook
              requestBody:
                required: true
                content:
                  application/json:
                    schema:
                      type: object
                      additionalProperties: false
                      required: [status]
                      properties:
                        site_id: {type: string}
                        token: {type: string}
                        status: {type: string, enum: [enabled, paused, disabled]}
              responses:
                "200": {$ref: "#/components/responses/WebhookResponse"}
                "400": {$ref: "#/components/responses/Error"}
                "401": {$ref: "#/components/responses/Error"}
                "403": {$ref: "#/components/responses/Error"}
                "429": {$ref: "#/components/responses/Error"}
                "404": {$ref: "#/components/responses/Error"}
                "410": {$ref: "#/components/responses/Error"}
          /webhooks/{id}/replay:
            parameters:
              - {name: id, in: path, required: true, schema: {type: string}}
            post:
              summary: Deliver again every message since a time
              requestBody:
                required: true
                content:
                  application/json:
                    schema:
                      type: object
                      additionalProperties: false
                      required: [since]
                      properties:
                        site_id: {type: string}
                        token: {type: string}
                        since: {type: number, minimum: 0, description: Unix time in seconds}
              responses:
                "202":
                  description: Cursors set; the partitions' owners replay from them
                  content:
                    application/json:
                      schema:
                        type: object
                        properties:
                          webhook_id: {type: string}
                          cursors: {type: object, additionalProperties: {type: integer}}
                "400": {$ref: "#/components/responses/Error"}
                "401": {$ref: "#/components/responses/Error"}
                "403": {$ref: "#/components/responses/Error"}
                "429": {$ref: "#/components/responses/Error"}
                "404": {$ref: "#/components/responses/Error"}
                "410": {$ref: "#/components/responses/Error"}
          /webhook_topics:
            post:
              summary: Create a custom topic
              requestBody:
                required: true
                content:
                  application/json:
                    schema:
                      type: object
                      additionalProperties: false
                      required: [site_id, webhook_topic]
                      properties:
                        site_id: {type: string}
                        token: {type: string}
                        webhook_topic:
                          type: object
                          additionalProperties: false
                          required: [topic]
                          properties:
                            topic: {type: string, pattern: "^[A-Za-z0-9_.-]{1,200}$"}
                            ordered: {type: boolean, default: true}
              responses:
                "201":
                  description: Created
                  content:
                    application/json:
                      schema:
                        type: object
                        properties:
                          webhook_topic: {$ref: "#/components/schemas/Topic"}
                "400": {$ref: "#/components/responses/Error"}
                "401": {$ref: "#/components/responses/Error"}
                "403": {$ref: "#/components/responses/Error"}
                "429": {$ref: "#/components/responses/Error"}
                "409": {$ref: "#/components/responses/Error"}
            get:
              summary: List the standard topics and the site's custom topics
              parameters:
                - {name: site_id, in: query, required: false, schema: {type: string}}
              responses:
                "200":
                  description: Topics
                  content:
                    application/json:
                      schema:
                        type: object
                        properties:
                          webhook_topics: {type: array, items: {$ref: "#/components/schemas/Topic"}}
                "401": {$ref: "#/components/responses/Error"}
                "403": {$ref: "#/components/responses/Error"}
                "429": {$ref: "#/components/responses/Error"}
          /sites/{site_id}/configuration:
            parameters:
              - {name: site_id, in: path, required: true, schema: {type: string}}
            get:
              summary: A site's retry, acknowledgement and alert configuration
              responses:
                "200": {$ref: "#/components/responses/ConfigurationResponse"}
                "401": {$ref: "#/components/responses/Error"}
                "403": {$ref: "#/components/responses/Error"}
                "429": {$ref: "#/components/responses/Error"}
            put:
              summary: Change a site's configuration (the fields given replace the current ones)
              requestBody:
                required: true
                content:
                  application/json:
                    schema: {$ref: "#/components/schemas/Configuration"}
              responses:
                "200": {$ref: "#/components/responses/ConfigurationResponse"}
                "400": {$ref: "#/components/responses/Error"}
                "401": {$ref: "#/components/responses/Error"}
                "403": {$ref: "#/components/responses/Error"}
                "429": {$ref: "#/components/responses/Error"}
                "413": {$ref: "#/components/responses/Error"}
                "409": {$ref: "#/components/responses/Error"}
        components:
          securitySchemes:
            bearer: {type: http, scheme: bearer}
          responses:
            Error:
              description: An error
              content:
                application/json:
                  schema:
                    type: object
                    required: [error]
                    properties:
                      error:
                        type: object
                        required: [code, message]
                        properties:
                          code: {type: string}
                          message: {type: string}
            WebhookResponse:
              description: The webhook
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      webhook: {$ref: "#/components/schemas/Webhook"}
            ConfigurationResponse:
              description: The configuration
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      configuration: {$ref: "#/components/schemas/Configuration"}
          schemas:
            Method: {type: string, enum: [GET, XGET, POST, PATCH, PUT, DELETE]}
            HashKey:
              type: string
              minLength: 16
              description: At least 16 characters (used as UTF-8 bytes), or whsec_ and the base64 of at least 24 bytes
            Options:
              type: object
              additionalProperties: false
              properties:
                batching: {type: boolean}
                signature: {type: string, enum: [hmac, standard, both]}
                max_batch_size: {type: integer, minimum: 1, maximum: 30}
                batch_linger: {type: number, minimum: 0, maximum: 60, description: Seconds}
                max_pending: {type: integer, minimum: 1, maximum: 10000}
                format: {type: string, enum: [json, cloudevents], description: "cloudevents: structured-mode CloudEvents 1.0"}
                rate_limit:
                  type: number
                  nullable: true
                  minimum: 0
                  exclusiveMinimum: true
                  maximum: 10000
                  description: "Requests a second at most (a token bucket with a burst of one second), on top of the site's max_in_flight; null: none (in a PATCH, null takes it away)"
                adaptive: {type: boolean, description: "AIMD on requests in flight within max_in_flight: lowered on 429, 503 and timeouts, raised again while latency holds"}
            Headers:
              type: object
              maxProperties: 20
              description: Static extra headers; the bridge's own (signature, message_id, Content-Type, Authorization, ...) cannot be set
              additionalProperties: {type: string, maxLength: 4096}
            Auth:
              type: object
              additionalProperties: false
              required: [type]
              description: Secrets are never returned (GET shows the type, and an oauth2 client's token_url and client_id)
              properties:
                type: {type: string, enum: [bearer, basic, oauth2]}
                token: {type: string}
                username: {type: string}
                password: {type: string}
                token_url: {type: string, description: "oauth2: the token endpoint (client credentials grant)"}
                client_id: {type: string}
                client_secret: {type: string}
                scope: {type: string}
            TLS:
              type: object
              additionalProperties: false
              description: PEM texts; GET shows which are set, never the key
              properties:
                ca: {type: string, description: a CA to trust besides the system's}
                client_certificate: {type: string}
                client_key: {type: string}
            Filter:
              type: object
              description: "{field, eq|in|prefix|exists} combined with all, any and not; fields are dotted paths"
              properties:
                field: {type: string}
                eq: {}
                in: {type: array, minItems: 1}
                prefix: {type: string}
                exists: {type: boolean}
                all: {type: array, minItems: 1, items: {$ref: "#/components/schemas/Filter"}}
                any: {type: array, minItems: 1, items: {$ref: "#/components/schemas/Filter"}}
                not: {$ref: "#/components/schemas/Filter"}
            NewWebhook:
              type: object
              additionalProperties: false
              required: [http_method, url, topics]
              properties:
                hash_key: {$ref: "#/components/schemas/HashKey"}
                http_method: {$ref: "#/components/schemas/Method"}
                status: {type: string, enum: [enabled, paused, disabled]}
                topics: {type: array, items: {type: string}, minItems: 1}
                url: {type: string}
                options: {$ref: "#/components/schemas/Options"}
                headers: {$ref: "#/components/schemas/Headers"}
                auth: {$ref: "#/components/schemas/Auth"}
                tls: {$ref: "#/components/schemas/TLS"}
                filter: {$ref: "#/components/schemas/Filter"}
            Webhook:
              type: object
              properties:
                id: {type: string}
                site_id: {type: string}
                url: {type: string}
                http_method: {$ref: "#/components/schemas/Method"}
                topics: {type: array, items: {type: string}}
                status: {type: string, enum: [enabled, paused, disabled, dead]}
                pause: {type: string, enum: [auto, manual]}
                retries: {type: integer}
                next_retry_at: {type: number}
                last_error: {type: string}
                hash_key_count: {type: integer}
                options: {$ref: "#/components/schemas/Options"}
                headers: {$ref: "#/components/schemas/Headers"}
                auth: {type: object, properties: {type: {type: string}, token_url: {type: string}, client_id: {type: string}}}
                tls: {type: object, properties: {ca: {type: boolean}, client_certificate: {type: boolean}}}
                filter: {$ref: "#/components/schemas/Filter"}
            Topic:
              type: object
              properties:
                topic: {type: string}
                ordered: {type: boolean}
                custom: {type: boolean}
            Contacts:
              type: object
              additionalProperties: false
              properties:
                contact_emails: {type: array, items: {type: string}}
                contact_mobiles: {type: array, items: {type: string}}
                email_notification_name: {type: string}
                sms_notification_name: {type: string}
            Configuration:
              type: object
              additionalProperties: false
              properties:
                site_id: {type: string}
                token: {type: string}
                ack_statuses: {type: array, items: {type: integer, minimum: 100, maximum: 599}, minItems: 1}
                ack_timeout: {type: number, minimum: 0.001, maximum: 60, description: Seconds}
                retry_intervals: {type: array, items: {type: number, minimum: 0.001, maximum: 3153600000}, minItems: 1}
                retries_until_failure: {type: integer, minimum: 1}
                message_retention: {type: number, minimum: 0.001, maximum: 3153600000}
                max_in_flight: {type: integer, minimum: 1, maximum: 64}
                test_mode: {type: boolean}
                test_emails: {type: array, items: {type: string}}
                test_mobiles: {type: array, items: {type: string}}
                on_failure: {$ref: "#/components/schemas/Contacts"}
                on_deactivation: {$ref: "#/components/schemas/Contacts"}
                on_failure_recovered: {$ref: "#/components/schemas/Contacts"}
                notifications:
                  type: object
                  additionalProperties:
                    type: object
                    required: [media]
                    properties:
                      media:
                        type: object
                        required: [webhook_topic]
                        properties:
                          webhook_topic: {type: array, items: {type: string}, minItems: 1}
                      time_type: {type: string, enum: [duration]}
                      time_value: {type: string}
        """#
}
