package config

import (
	"time"

	"github.com/liveagent-bridge/liveagent/attachstore"
	"github.com/liveagent-bridge/liveagent/availability"
	"github.com/liveagent-bridge/liveagent/miaw"
	"github.com/liveagent-bridge/liveagent/workflows"
)

// Config is the whole configuration of the bridge's binaries. Every field maps
// to one documented key (see the package doc); Load fills it from defaults, a
// YAML file and the environment, in that order of increasing precedence.
type Config struct {
	Temporal    Temporal
	Salesforce  Salesforce
	Session     Session
	Attachments Attachments
	Delivery    Delivery
	Worker      Worker
	Gateway     Gateway
	Codec       Codec
	Log         Log
	// Availability is the availability.* section (availability.go).
	Availability Availability
	// Locales is the locales.* section (locales.go): per-locale texts.
	Locales Locales
}

// Temporal says how to reach the Temporal frontend.
type Temporal struct {
	Address   string // temporal.address (host:port, or several comma-separated: one per frontend)
	Namespace string // temporal.namespace
	APIKey    string // temporal.api_key (secret; implies TLS)
	TLS       TLS
}

// TLS configures the connection to Temporal. With Enabled and no files the
// system roots are used; CertFile+KeyFile add a client certificate (mTLS).
type TLS struct {
	Enabled    bool   // temporal.tls.enabled
	CertFile   string // temporal.tls.cert_file
	KeyFile    string // temporal.tls.key_file
	CAFile     string // temporal.tls.ca_file
	ServerName string // temporal.tls.server_name
}

// Auth modes of the Salesforce side. Only AuthVerified is accepted: Validate
// refuses AuthGuest (guestUnsupported says why).
const (
	AuthVerified = "verified"
	AuthGuest    = "guest"
)

// guestUnsupported is why salesforce.auth_mode guest is refused. A guest
// (unauthenticated) end user's only credential is its Salesforce access
// token: Salesforce issues no new token for the same anonymous identity once
// it expires (the continuation-access-token endpoint returns a token for the
// same subject with the same expiry; Salesforce's reference web client drops
// the session on a 401 and never renews a guest), and a fresh unauthenticated
// token is a new anonymous user who cannot see the conversation. A session
// could only outlive a worker restart by keeping that bearer token itself in
// workflow history or a store every worker shares, and would still end at
// the token's (undocumented) expiry. Verified mode re-mints the same identity
// from our signing key at any time, with nothing secret in history.
const guestUnsupported = "guest is not supported: Salesforce never renews a guest's access token for the same anonymous user " +
	"(a continuation token keeps its expiry; a new token is a new user), so guest chats would break at token expiry or a worker restart; " +
	"use verified (Salesforce User Verification with our signing key)"

// Salesforce configures the MIAW client (see miaw.Config).
type Salesforce struct {
	SCRTURL                string        // salesforce.scrt_url
	OrgID                  string        // salesforce.org_id
	Deployment             string        // salesforce.deployment
	CapabilitiesVersion    string        // salesforce.capabilities_version
	Platform               string        // salesforce.platform
	AuthMode               string        // salesforce.auth_mode: verified (guest is refused)
	PrivateKeyFile         string        // salesforce.private_key_file
	KeyID                  string        // salesforce.key_id
	Issuer                 string        // salesforce.issuer
	SigningAlgorithm       string        // salesforce.signing_algorithm: RS256 | RS512
	IdentityTokenTTL       time.Duration // salesforce.identity_token_ttl
	AllowAnyHost           bool          // salesforce.allow_any_host
	AttachmentHosts        []string      // salesforce.attachment_hosts
	TokenRequestsPerMinute int           // salesforce.token_requests_per_minute
	TokenStoreDir          string        // salesforce.token_store_dir ("" = tokens stay in each process)
	// ConversationHistory is salesforce.conversation_history.* (conversationhistory.go).
	ConversationHistory ConversationHistory
}

// Session holds the session settings handed to every new workflow.
type Session struct {
	Topics                 []string      // session.topics
	AcceptTimeout          time.Duration // session.accept_timeout
	TimeoutMessage         string        // session.timeout_message
	Greeting               string        // session.greeting
	AgentEndedMessage      string        // session.agent_ended_message
	DefaultLocale          string        // session.default_locale
	Routing                Routing
	MaxMessageBytes        int      // session.max_message_bytes
	MaxAttachmentBytes     int64    // session.max_attachment_bytes
	AllowedAttachmentTypes []string // session.allowed_attachment_types
	// ListenerHeartbeatTimeout: session.listener_heartbeat_timeout.
	ListenerHeartbeatTimeout time.Duration
	// ListenerShards: session.listener_shards (0 = one listener per session).
	ListenerShards int
	// HandoffExcludedTopics never forward the assistant's conversation.
	HandoffExcludedTopics []string      // session.handoff_excluded_topics
	RoutingResultTimeout  time.Duration // session.routing_result_timeout (0 = off)
	IdleTimeout           time.Duration // session.idle_timeout (0 = off)
	// TransferTimeout: session.transfer_timeout, how long a transfer may go
	// without a new agent joining before the user is back in the queue
	// (0 = AcceptTimeout).
	TransferTimeout time.Duration
	// SurveyWindow: session.survey_window, how long a closed session an
	// agent chatted in takes a post-chat survey (0 = no survey).
	SurveyWindow time.Duration
	// TypingQuietTime: session.typing_quiet_time; AgentTypingExpiry:
	// session.agent_typing_expiry (workflows.Settings).
	TypingQuietTime   time.Duration
	AgentTypingExpiry time.Duration
	// MessageRate: session.message_rate messages per
	// session.message_rate_window to Salesforce per conversation
	// (workflows.Settings.MessageRate; 0 = no pacing).
	MessageRate       int
	MessageRateWindow time.Duration
	// Notices on the failure paths; "" shows the built-in English text.
	RoutingFailedMessage   string // session.routing_failed_message
	NoRoutingResultMessage string // session.no_routing_result_message
	RefusedMessage         string // session.refused_message
	FailedMessage          string // session.failed_message
	TransferFailedMessage  string // session.transfer_failed_message
	InactiveMessage        string // session.inactive_message
	InactiveEndedMessage   string // session.inactive_ended_message
	IdleMessage            string // session.idle_message
	// Texts while waiting and chatting; "" shows the built-in English text.
	// Placeholders in braces are filled in.
	QueuePositionMessage    string // session.queue_position_message ({position})
	WaitMessage             string // session.wait_message ({minutes}; 2 or more)
	WaitOneMinuteMessage    string // session.wait_one_minute_message
	WaitUnderAMinuteMessage string // session.wait_under_a_minute_message
	TransferMessage         string // session.transfer_message
	AgentJoinedMessage      string // session.agent_joined_message ({agent})
	UnnamedAgent            string // session.unnamed_agent ({agent} when the name is unknown)
	SendFailedMessage       string // session.send_failed_message
	FileTooLargeMessage     string // session.file_too_large_message ({file})
	FileTypeRefusedMessage  string // session.file_type_refused_message ({file})
	FileUploadFailedMessage string // session.file_upload_failed_message ({file})
	AttachmentFailedMessage string // session.attachment_failed_message ({file})
}

// Routing names the routing attributes (hidden pre-chat fields) agreed with
// the Salesforce team.
type Routing struct {
	UserField  string // session.routing.user_field
	TopicField string // session.routing.topic_field
}

// Attachments configures the attachment store.
type Attachments struct {
	Dir              string // attachments.dir
	PublicURL        string // attachments.public_url
	MaxDownloadBytes int64  // attachments.max_download_bytes
	// Retention is how long a stored file is kept after its latest put
	// (attachments.retention); 0 keeps files forever.
	Retention time.Duration
	// LinkSecret signs the links to stored files the assistant receives
	// (attachments.link_secret, secret; shared by the worker and the
	// gateway). Empty: links need the gateway bearer token.
	LinkSecret string
	// LinkTTL is how long a signed link works (attachments.link_ttl).
	LinkTTL time.Duration
}

// Delivery modes.
const (
	DeliveryConsole = "console"
	DeliveryWebhook = "webhook"
)

// Delivery configures how agent messages reach the assistant.
type Delivery struct {
	Mode          string        // delivery.mode: console | webhook
	WebhookURL    string        // delivery.webhook_url
	WebhookSecret string        // delivery.webhook_secret (secret)
	Timeout       time.Duration // delivery.timeout
}

// Worker sizes the Temporal workers.
type Worker struct {
	ListenerSlots int    // worker.listener_slots
	ActivitySlots int    // worker.activity_slots
	MetricsListen string // worker.metrics_listen ("" = off)
	// PProf: worker.pprof, Go's runtime profiles on the metrics address
	// too (/debug/pprof/).
	PProf bool
	// WorkflowCacheSize: worker.workflow_cache_size, the most session and
	// shard workflows this process keeps in memory between their tasks
	// (0 = the SDK's default, DefaultWorkflowCacheSize). A workflow pushed
	// out of it is replayed from its history at its next event: memory
	// traded for CPU and latency on that event.
	WorkflowCacheSize int
}

// DefaultWorkflowCacheSize is the Temporal Go SDK's own sticky workflow
// cache size, used when worker.workflow_cache_size is 0.
const DefaultWorkflowCacheSize = 10000

// Gateway configures the assistant-facing HTTP gateway.
type Gateway struct {
	Listen       string // gateway.listen
	BearerToken  string // gateway.bearer_token (secret)
	MaxBodyBytes int64  // gateway.max_body_bytes
}

// Codec configures the AES-GCM payload codec.
type Codec struct {
	Enabled     bool              // codec.enabled
	ActiveKeyID string            // codec.active_key_id
	Keys        map[string]string // codec.keys: key id -> base64 32-byte key (secret)
	CORSOrigins []string          // codec.cors_origins
	// OperatorToken is the bearer token the Temporal Web UI (or `temporal
	// --codec-endpoint` with --codec-auth) presents to the gateway's codec
	// endpoint on /codec/. Required by the gateway when codec.enabled.
	OperatorToken string // codec.operator_token (secret)
}

// Log configures slog.
type Log struct {
	Level  string // log.level: debug | info | warn | error
	Format string // log.format: text | json
}

// Default returns the defaults of every key: what Load starts from. It is
// not valid on its own: salesforce.scrt_url, .org_id, .deployment, the
// verified-auth key settings and session.topics have no default.
func Default() *Config {
	return &Config{
		Temporal: Temporal{
			Address:   "127.0.0.1:7233",
			Namespace: "default",
		},
		Salesforce: Salesforce{
			CapabilitiesVersion:    "1",
			Platform:               "Web",
			AuthMode:               AuthVerified,
			SigningAlgorithm:       "RS256",
			IdentityTokenTTL:       5 * time.Minute,
			TokenRequestsPerMinute: 180,
			ConversationHistory:    ConversationHistory{LoginURL: DefaultLoginURL},
		},
		Session: Session{
			AcceptTimeout:     5 * time.Minute,
			TimeoutMessage:    "Sorry, no agent is available right now. Please try again later.",
			Greeting:          "Welcome to HR Live Chat!",
			AgentEndedMessage: "The agent has ended the chat.",
			DefaultLocale:     "en_US",
			Routing: Routing{
				UserField:  "UserId",
				TopicField: "Topic",
			},
			MaxMessageBytes:          4000,
			MaxAttachmentBytes:       5 << 20,
			ListenerHeartbeatTimeout: workflows.DefaultListenerHeartbeatTimeout,
			ListenerShards:           DefaultListenerShards,
			RoutingResultTimeout:     2 * time.Minute,
			TypingQuietTime:          workflows.DefaultTypingQuietTime,
			AgentTypingExpiry:        workflows.DefaultAgentTypingExpiry,
			MessageRate:              22,
			MessageRateWindow:        time.Minute,
		},
		Attachments: Attachments{
			Dir:              "./data/attachments",
			PublicURL:        "http://127.0.0.1:8081/v1/attachments",
			MaxDownloadBytes: 25 << 20,
			Retention:        30 * 24 * time.Hour,
			LinkTTL:          24 * time.Hour,
		},
		Delivery: Delivery{
			Mode:    DeliveryConsole,
			Timeout: 10 * time.Second,
		},
		Worker: Worker{
			ListenerSlots: 1000,
			ActivitySlots: 200,
		},
		Gateway: Gateway{
			Listen:       "127.0.0.1:8081",
			MaxBodyBytes: 8 << 20,
		},
		Log: Log{
			Level:  "info",
			Format: "text",
		},
		Availability: Availability{
			Source:   string(availability.SourceAlways),
			CacheTTL: availability.DefaultCacheTTL,
		},
	}
}

// MIAW maps the Salesforce section (and the attachment limits) to the MIAW
// client configuration.
func (c *Config) MIAW() miaw.Config {
	return miaw.Config{
		BaseURL:                c.Salesforce.SCRTURL,
		AllowAnyHost:           c.Salesforce.AllowAnyHost,
		OrgID:                  c.Salesforce.OrgID,
		DeploymentName:         c.Salesforce.Deployment,
		CapabilitiesVersion:    c.Salesforce.CapabilitiesVersion,
		Platform:               c.Salesforce.Platform,
		AuthMode:               miaw.AuthMode(c.Salesforce.AuthMode),
		PrivateKeyFile:         c.Salesforce.PrivateKeyFile,
		KeyID:                  c.Salesforce.KeyID,
		Issuer:                 c.Salesforce.Issuer,
		SigningAlgorithm:       c.Salesforce.SigningAlgorithm,
		IdentityTokenTTL:       c.Salesforce.IdentityTokenTTL,
		AttachmentHosts:        cloneStrings(c.Salesforce.AttachmentHosts),
		MaxDownloadBytes:       c.Attachments.MaxDownloadBytes,
		MaxAttachmentBytes:     c.Session.MaxAttachmentBytes,
		TokenRequestsPerMinute: c.Salesforce.TokenRequestsPerMinute,
		TokenStoreDir:          c.Salesforce.TokenStoreDir,
	}
}

// SessionSettings maps the Session section to the settings every new session
// workflow carries in its input.
func (c *Config) SessionSettings() workflows.Settings {
	return workflows.Settings{
		Topics:                   cloneStrings(c.Session.Topics),
		AcceptTimeout:            c.Session.AcceptTimeout,
		TimeoutMessage:           c.Session.TimeoutMessage,
		Greeting:                 c.Session.Greeting,
		AgentEndedMessage:        c.Session.AgentEndedMessage,
		DefaultLocale:            normalizedLocale(c.Session.DefaultLocale),
		RoutingUserField:         c.Session.Routing.UserField,
		RoutingTopicField:        c.Session.Routing.TopicField,
		MaxMessageBytes:          c.Session.MaxMessageBytes,
		MaxAttachmentBytes:       c.Session.MaxAttachmentBytes,
		AllowedAttachmentTypes:   cloneStrings(c.Session.AllowedAttachmentTypes),
		ListenerHeartbeatTimeout: c.Session.ListenerHeartbeatTimeout,
		ListenerShards:           c.Session.ListenerShards,
		RoutingResultTimeout:     c.Session.RoutingResultTimeout,
		IdleTimeout:              c.Session.IdleTimeout,
		TransferTimeout:          c.Session.TransferTimeout,
		SurveyWindow:             c.Session.SurveyWindow,
		TypingQuietTime:          c.Session.TypingQuietTime,
		AgentTypingExpiry:        c.Session.AgentTypingExpiry,
		MessageRate:              workflows.MessageRate{Count: c.Session.MessageRate, Window: c.Session.MessageRateWindow},
		RoutingFailedMessage:     c.Session.RoutingFailedMessage,
		NoRoutingResultMessage:   c.Session.NoRoutingResultMessage,
		RefusedMessage:           c.Session.RefusedMessage,
		FailedMessage:            c.Session.FailedMessage,
		TransferFailedMessage:    c.Session.TransferFailedMessage,
		InactiveMessage:          c.Session.InactiveMessage,
		InactiveEndedMessage:     c.Session.InactiveEndedMessage,
		IdleMessage:              c.Session.IdleMessage,
		OfflineMessage:           c.Availability.OfflineMessage,
		QueuePositionMessage:     c.Session.QueuePositionMessage,
		WaitMessage:              c.Session.WaitMessage,
		WaitOneMinuteMessage:     c.Session.WaitOneMinuteMessage,
		WaitUnderAMinuteMessage:  c.Session.WaitUnderAMinuteMessage,
		TransferMessage:          c.Session.TransferMessage,
		AgentJoinedMessage:       c.Session.AgentJoinedMessage,
		UnnamedAgent:             c.Session.UnnamedAgent,
		SendFailedMessage:        c.Session.SendFailedMessage,
		FileTooLargeMessage:      c.Session.FileTooLargeMessage,
		FileTypeRefusedMessage:   c.Session.FileTypeRefusedMessage,
		FileUploadFailedMessage:  c.Session.FileUploadFailedMessage,
		AttachmentFailedMessage:  c.Session.AttachmentFailedMessage,
	}
}

const redacted = "[redacted]"

// DefaultListenerShards is session.listener_shards when unset.
const DefaultListenerShards = 8

// Redacted returns a deep copy with every secret (temporal.api_key,
// delivery.webhook_secret, gateway.bearer_token, attachments.link_secret,
// codec.keys values, codec.operator_token) replaced
// by "[redacted]" when set, safe to log.
func (c *Config) Redacted() *Config {
	r := *c
	r.Salesforce.AttachmentHosts = cloneStrings(c.Salesforce.AttachmentHosts)
	r.Session.Topics = cloneStrings(c.Session.Topics)
	r.Session.AllowedAttachmentTypes = cloneStrings(c.Session.AllowedAttachmentTypes)
	r.Session.HandoffExcludedTopics = cloneStrings(c.Session.HandoffExcludedTopics)
	r.Codec.CORSOrigins = cloneStrings(c.Codec.CORSOrigins)
	r.Availability.Schedules = cloneSchedules(c.Availability.Schedules)
	r.Locales = cloneLocales(c.Locales)
	r.Temporal.APIKey = redact(c.Temporal.APIKey)
	r.Delivery.WebhookSecret = redact(c.Delivery.WebhookSecret)
	r.Gateway.BearerToken = redact(c.Gateway.BearerToken)
	r.Attachments.LinkSecret = redact(c.Attachments.LinkSecret)
	r.Codec.OperatorToken = redact(c.Codec.OperatorToken)
	if c.Codec.Keys != nil {
		r.Codec.Keys = make(map[string]string, len(c.Codec.Keys))
		for id, k := range c.Codec.Keys {
			r.Codec.Keys[id] = redact(k)
		}
	}
	return &r
}

func redact(s string) string {
	if s == "" {
		return ""
	}
	return redacted
}

func cloneStrings(s []string) []string {
	if s == nil {
		return nil
	}
	return append([]string(nil), s...)
}

// LinkSigner returns the signer of links to stored files, or nil when
// attachments.link_secret is not set (links then need the gateway bearer
// token). The configuration must be valid.
func (c *Config) LinkSigner() (*attachstore.LinkSigner, error) {
	if c.Attachments.LinkSecret == "" {
		return nil, nil
	}
	s, err := attachstore.NewLinkSigner(c.Attachments.LinkSecret, c.Attachments.LinkTTL)
	if err != nil {
		return nil, fieldErr("attachments.link_secret", "%s", err)
	}
	return s, nil
}
