// Package config owns the bridge's configuration: one YAML file plus
// environment variables, read with viper, defaulted, and validated up front so
// a binary refuses to start with a one-line error naming the bad key, e.g.
//
//	config: salesforce.org_id: must start with "00D" and be 15 or 18 characters
//
// Precedence, highest first: LIVEAGENT_<KEY> (dots become underscores, upper
// case: salesforce.org_id -> LIVEAGENT_SALESFORCE_ORG_ID), then the standard
// TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE / TEMPORAL_API_KEY for the three
// temporal.* keys they name, then the file, then the defaults below. In the
// environment, lists are comma-separated ("HR,IT") and codec.keys is
// "id=base64key,id2=base64key", and availability.schedules is a JSON array of
// the same entries ([{"topics":["HR"],"time_zone":"Europe/Berlin",
// "weekly":{"mon-fri":["09:00-17:00"]}}]), and locales is a JSON object
// ({"fr":{"greeting":"Bonjour"}}). Durations use Go syntax (30s, 5m, 1h); byte
// counts are integers or take a KiB/MiB/GiB suffix (5MiB). Unknown keys in the
// file are an error (typos never pass silently).
//
// Empty values: a text key given an empty LIVEAGENT_<KEY> variable, or left
// empty in the file (`greeting:`), is "", exactly like `greeting: ""`, not its
// default: LIVEAGENT_SESSION_GREETING= means no greeting, and a text that must
// be set fails at start naming the key. Any other key (bool, number,
// duration, list, map) ignores an empty variable, as do TEMPORAL_*: the
// file's value or the default applies.
//
// Secrets (temporal.api_key, delivery.webhook_secret, gateway.bearer_token,
// attachments.link_secret, codec.keys, codec.operator_token) never appear in errors; log (*Config).Redacted(), never the
// Config itself.
//
// Every key, with its default:
//
//	temporal:
//	  address: 127.0.0.1:7233        # host:port of the Temporal frontend (env TEMPORAL_ADDRESS too)
//	  namespace: default             # (env TEMPORAL_NAMESPACE too)
//	  api_key: ""                    # secret; Temporal Cloud API key, implies TLS (env TEMPORAL_API_KEY too)
//	  tls:
//	    enabled: false               # TLS with the system roots (or ca_file)
//	    cert_file: ""                # client certificate for mTLS (needs key_file)
//	    key_file: ""                 # client key for mTLS (needs cert_file)
//	    ca_file: ""                  # extra CA bundle (PEM) to trust
//	    server_name: ""              # TLS server name override
//	salesforce:
//	  scrt_url: ""                   # required; https://<org>.my.salesforce-scrt.com
//	  org_id: ""                     # required; 15 or 18 characters, starts with 00D
//	  deployment: ""                 # required; Embedded Service deployment API name (Custom Client)
//	  capabilities_version: "1"
//	  platform: Web
//	  auth_mode: verified            # verified only (guest is refused at start: Salesforce cannot renew a guest's token)
//	  private_key_file: ""           # verified: PEM RSA private key (PKCS#1/PKCS#8) signing identity JWTs
//	  key_id: ""                     # verified: JWT kid, the key's id in the Salesforce keyset
//	  issuer: ""                     # verified: JWT iss, must equal the keyset's issuer
//	  signing_algorithm: RS256       # RS256 | RS512
//	  identity_token_ttl: 5m         # lifetime of each customer identity JWT
//	  allow_any_host: false          # true ONLY for the emulator: allows http:// and any host
//	  attachment_hosts: []           # extra hosts agent attachments may be downloaded from
//	  token_requests_per_minute: 180 # org-wide cap on access-token calls (Salesforce allows 200; more only with allow_any_host)
//	  token_store_dir: ""            # directory the workers share for sealed access tokens ("" = per process)
//	  conversation_history:          # load the assistant's conversation into the agent's console (else: the transcript file)
//	    enabled: false               # Salesforce's Conversation History API; the file is attached whenever the import fails
//	    channel_address_identifier: "" # enabled: MessagingChannel.ChannelAddressIdentifier of the deployment's channel
//	    connected_app: ""            # enabled: developer name of the connected app linked to the messaging channel
//	    login_url: https://login.salesforce.com  # OAuth host (test.salesforce.com for sandboxes, or the My Domain URL)
//	    client_id: ""                # enabled: the connected app's consumer key (OAuth JWT bearer flow)
//	    username: ""                 # enabled: the integration user the connected app pre-authorizes
//	    private_key_file: ""         # key of the connected app's certificate ("" = salesforce.private_key_file)
//	session:
//	  topics: []                     # required; the topics a session may be opened for
//	  accept_timeout: 5m             # how long to wait for an agent to accept
//	  timeout_message: "Sorry, no agent is available right now. Please try again later."
//	  greeting: "Welcome to HR Live Chat!"   # shown when an agent accepts ("" = none)
//	  agent_ended_message: "The agent has ended the chat."
//	  default_locale: en_US
//	  routing:
//	    user_field: UserId           # routing attribute carrying the user id
//	    topic_field: Topic           # routing attribute carrying the topic
//	  max_message_bytes: 4000        # max UTF-8 bytes of one user message
//	  max_attachment_bytes: 5MiB     # max size of one user (assistant) upload; Salesforce takes at most 5 MB
//	  allowed_attachment_types: []   # MIME types users may send; empty allows all
//	  listener_heartbeat_timeout: 30s # listener heartbeats every third of it; 15s to 10m
//	  listener_shards: 8             # >0: sessions share this many listener shards (one heartbeat each); 0: a listener per session
//	  handoff_excluded_topics: []    # topics whose assistant conversation (summary, history) never reaches the agent
//	  routing_result_timeout: 2m     # end a session Salesforce says nothing about this long after create (0 = off; 10s+)
//	  idle_timeout: 0s               # end an accepted chat nobody writes in for this long (0 = off; 1m+)
//	  transfer_timeout: 0s           # a transfer no new agent joins within this is back in the queue (0 = accept_timeout; 10s to 24h)
//	  survey_window: 0s              # a closed chat takes a post-chat survey this long (0 = no survey; 1m to 24h)
//	  typing_quiet_time: 5s          # the agent is told the user stopped typing this long after the last report (1s to 1m)
//	  agent_typing_expiry: 10s       # an agent typing delivery's expiresAt is this long after it (1s to 1m)
//	  message_rate: 22               # user messages per message_rate_window sent to Salesforce per conversation (0 = no pacing)
//	  message_rate_window: 1m        # the pacing window (1s to 1h)
//	  # Notices on the failure paths ("" = the built-in English text):
//	  routing_failed_message: ""     # routing found no agent
//	  no_routing_result_message: ""  # routing said nothing within routing_result_timeout
//	  refused_message: ""            # Salesforce refused to create the conversation
//	  failed_message: ""             # a permanent technical failure
//	  transfer_failed_message: ""    # a transfer failed; the user waits for another agent
//	  inactive_message: ""           # Salesforce marked the session inactive (it stays open)
//	  inactive_ended_message: ""     # Salesforce ended a session it had marked inactive
//	  idle_message: ""               # the chat ended after idle_timeout
//	  # Texts while waiting and chatting ("" = the built-in English text; {…} are filled in):
//	  queue_position_message: ""     # "You are number {position} in the queue."
//	  wait_message: ""               # "An agent will be with you in about {minutes} minutes." (2 or more)
//	  wait_one_minute_message: ""    # "An agent will be with you in about 1 minute."
//	  wait_under_a_minute_message: "" # "An agent will be with you in less than a minute."
//	  transfer_message: ""           # "You are being transferred to another agent. Please wait."
//	  agent_joined_message: ""       # "You are now chatting with {agent}." (after a transfer)
//	  unnamed_agent: ""              # {agent} when the agent's name is unknown ("another agent")
//	  send_failed_message: ""        # "Sorry, one of your messages could not be delivered to the agent."
//	  file_too_large_message: ""     # Salesforce refused the user's file {file} as too large
//	  file_type_refused_message: ""  # Salesforce refused the type of the user's file {file}
//	  file_upload_failed_message: "" # Salesforce reported later that the user's file {file} failed
//	  attachment_failed_message: ""  # the agent's file {file} could not be downloaded
//	attachments:
//	  dir: ./data/attachments        # content-addressed store of attachments
//	  public_url: http://127.0.0.1:8081/v1/attachments   # base URL users fetch stored files from
//	  max_download_bytes: 25MiB      # max size of one file an agent shares (end to end)
//	  retention: 720h                # files are removed this long after their latest put; 0 keeps them
//	  link_secret: ""                # signs the file links the assistant gets (secret; worker and gateway; "" = links need the bearer token)
//	  link_ttl: 24h                  # how long a signed file link works
//	delivery:
//	  mode: console                  # console | webhook
//	  webhook_url: ""                # webhook: the assistant's endpoint (required)
//	  webhook_secret: ""             # webhook: HMAC-SHA256 signing secret (required; secret)
//	  timeout: 10s                   # per delivery request
//	worker:
//	  listener_slots: 1000           # concurrent SSE listeners = max open sessions per worker
//	  activity_slots: 200            # concurrent short activities (Salesforce calls, deliveries)
//	  metrics_listen: ""             # host:port for Prometheus /metrics ("" = off)
//	  pprof: false                   # also serve Go's runtime profiles there (/debug/pprof/): an operator-only address
//	  workflow_cache_size: 0         # workflows kept in memory between tasks (0 = SDK default 10000); fewer: less memory, idle sessions replay on their next event
//	gateway:
//	  listen: 127.0.0.1:8081
//	  bearer_token: ""               # secret; token assistants present
//	  max_body_bytes: 8MiB
//	codec:
//	  enabled: false                 # encrypt workflow payloads with AES-256-GCM (worker, gateway and CLI alike)
//	  active_key_id: ""              # required when enabled; one of codec.keys, encrypts new payloads
//	  keys: {}                       # id: base64 of 32 random bytes (secret); ids are case-insensitive; keep old ids to rotate
//	  cors_origins: []               # origins (scheme://host[:port]) of Web UIs allowed to call the codec endpoint; * = any
//	  operator_token: ""             # secret; bearer token for the gateway's codec endpoint /codec/ (required by the gateway when enabled)
//	log:
//	  level: info                    # debug | info | warn | error
//	  format: text                   # text | json
//	availability:                    # may a live agent be offered now? (checked before a session starts)
//	  source: always                 # always | salesforce (the deployment's business hours) | schedule (topic schedules only)
//	  offline_message: ""            # shown when agents are offline ("" = "Our agents are offline now, …")
//	  salesforce_cache_ttl: 60s      # reuse Salesforce's business hours this long (0 = ask every time; at most 1h)
//	  schedules: []                  # per-topic opening hours; with source salesforce both must be open
//	  # - topics: [Payroll, Benefits]  # session.topics, or "*" for every topic without its own entry
//	  #   time_zone: Europe/Berlin     # IANA name; hours are wall-clock time (DST aware)
//	  #   weekly:                      # day (mon…sun) or range (mon-fri): opening ranges; other days closed
//	  #     mon-fri: ["09:00-12:30", "13:30-17:00"]
//	  #     sat: ["22:00-06:00"]       # past midnight into Sunday; 00:00-24:00 is the whole day
//	  #   holidays: ["2026-12-25"]     # local dates closed all day
//	  # - topics: [IT access]
//	  #   always: true                 # always available, whatever Salesforce's hours (any source; no weekly/holidays)
//	locales: {}                      # per-locale texts: locale (fr, fr_CA or fr-CA) -> text key -> text
//	  # fr:                            # a session (or availability question) in fr, fr_CA, fr_BE… takes these
//	  #   greeting: "Bonjour, un conseiller est là."
//	  #   timeout_message: "Désolé, aucun conseiller n'est disponible."
//	  #   offline_message: "Nos conseillers sont absents."
//	  # fr_CA:                         # only what differs from fr; the rest falls back to fr, then the texts above
//	  #   greeting: "Bonjour, un agent est là."
//	  # Text keys: the session.* texts above (greeting, timeout_message, agent_ended_message,
//	  # routing_failed_message … attachment_failed_message) and offline_message. Omit a key to
//	  # fall back; only greeting may be "" (no greeting). The request's locale picks the chain
//	  # (fr_CA -> fr -> these defaults); an unknown locale gets the defaults, its own code still
//	  # goes to Salesforce. In the environment: a JSON object.
package config
