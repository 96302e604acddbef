package config

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/liveagent-bridge/liveagent/codec"
	"github.com/liveagent-bridge/liveagent/miaw"
)

var (
	rsaKeyOnce sync.Once
	rsaKey     *rsa.PrivateKey
)

func testRSAKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	rsaKeyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		rsaKey = k
	})
	return rsaKey
}

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, data, 0o600))
	return p
}

func pkcs1KeyFile(t *testing.T) string {
	der := x509.MarshalPKCS1PrivateKey(testRSAKey(t))
	return writeFile(t, "key.pem", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: der}))
}

func pkcs8KeyFile(t *testing.T) string {
	der, err := x509.MarshalPKCS8PrivateKey(testRSAKey(t))
	require.NoError(t, err)
	return writeFile(t, "key8.pem", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

func b64Key(n int) string { return base64.StdEncoding.EncodeToString(make([]byte, n)) }

// validConfig is a complete, valid production-shaped configuration.
func validConfig(t *testing.T) *Config {
	c := Default()
	c.Salesforce.SCRTURL = "https://acme.my.salesforce-scrt.com"
	c.Salesforce.OrgID = "00D000000000001"
	c.Salesforce.Deployment = "Live_Agent_Bridge"
	c.Salesforce.PrivateKeyFile = pkcs1KeyFile(t)
	c.Salesforce.KeyID = "bridge-1"
	c.Salesforce.Issuer = "liveagent-bridge"
	c.Session.Topics = []string{"HR", "IT"}
	return c
}

func TestValidConfigPasses(t *testing.T) {
	require.NoError(t, validConfig(t).Validate())

	c := validConfig(t)
	c.Salesforce.PrivateKeyFile = pkcs8KeyFile(t)
	require.NoError(t, c.Validate(), "PKCS#8 keys are accepted")

	c = validConfig(t)
	c.Salesforce.SCRTURL = "http://127.0.0.1:8090"
	c.Salesforce.AllowAnyHost = true
	require.NoError(t, c.Validate(), "the emulator is allowed with allow_any_host")

	c = validConfig(t)
	c.Temporal.Address = "10.0.0.1:7233, 10.0.0.2:7233"
	require.NoError(t, c.Validate(), "several frontends, comma-separated")

	c = validConfig(t)
	c.Salesforce.OrgID = "00D000000000001AAA"
	require.NoError(t, c.Validate(), "18-character org ids are accepted")
}

func TestDefaultIsNotValidAlone(t *testing.T) {
	var fe *FieldError
	require.ErrorAs(t, Default().Validate(), &fe)
	assert.Equal(t, "salesforce.scrt_url", fe.Key)
}

func TestValidateRules(t *testing.T) {
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	ecDER, err := x509.MarshalPKCS8PrivateKey(ecKey)
	require.NoError(t, err)

	tests := []struct {
		name    string
		mutate  func(c *Config)
		key     string
		message string
	}{
		{"empty temporal address", func(c *Config) { c.Temporal.Address = "" }, "temporal.address", "host:port"},
		{"temporal address without port", func(c *Config) { c.Temporal.Address = "localhost" }, "temporal.address", "host:port"},
		{"temporal address list entry without port", func(c *Config) { c.Temporal.Address = "10.0.0.1:7233,10.0.0.2" }, "temporal.address", "comma-separated"},
		{"empty namespace", func(c *Config) { c.Temporal.Namespace = " " }, "temporal.namespace", "empty"},
		{"cert without key", func(c *Config) { c.Temporal.TLS.CertFile = "/tmp/x" }, "temporal.tls.key_file", "must be set"},
		{"key without cert", func(c *Config) { c.Temporal.TLS.KeyFile = "/tmp/x" }, "temporal.tls.cert_file", "must be set"},
		{"missing CA file", func(c *Config) { c.Temporal.TLS.CAFile = "/nonexistent/ca.pem" }, "temporal.tls.ca_file", "does not exist"},

		{"missing scrt url", func(c *Config) { c.Salesforce.SCRTURL = "" }, "salesforce.scrt_url", "must be set"},
		{"relative scrt url", func(c *Config) { c.Salesforce.SCRTURL = "acme.my.salesforce-scrt.com" }, "salesforce.scrt_url", "absolute"},
		{"http scrt url", func(c *Config) { c.Salesforce.SCRTURL = "http://acme.my.salesforce-scrt.com" }, "salesforce.scrt_url", "https"},
		{"foreign host", func(c *Config) { c.Salesforce.SCRTURL = "https://evil.example.com" }, "salesforce.scrt_url", "salesforce-scrt.com"},
		{"look-alike host", func(c *Config) { c.Salesforce.SCRTURL = "https://evilsalesforce-scrt.com" }, "salesforce.scrt_url", "salesforce-scrt.com"},
		{"org id wrong prefix", func(c *Config) { c.Salesforce.OrgID = "00X000000000001" }, "salesforce.org_id", `"00D"`},
		{"org id wrong length", func(c *Config) { c.Salesforce.OrgID = "00D00000000001" }, "salesforce.org_id", "15 or 18"},
		{"org id bad characters", func(c *Config) { c.Salesforce.OrgID = "00D0000000000-1" }, "salesforce.org_id", "00D"},
		{"missing deployment", func(c *Config) { c.Salesforce.Deployment = "" }, "salesforce.deployment", "must be set"},
		{"history API without channel", func(c *Config) {
			c.Salesforce.ConversationHistory = validHistoryAPI()
			c.Salesforce.ConversationHistory.ChannelAddressIdentifier = ""
		}, "salesforce.conversation_history.channel_address_identifier", "must be set when salesforce.conversation_history.enabled"},
		{"history API without connected app", func(c *Config) {
			c.Salesforce.ConversationHistory = validHistoryAPI()
			c.Salesforce.ConversationHistory.ConnectedApp = " "
		}, "salesforce.conversation_history.connected_app", "connected app"},
		{"history API without client id", func(c *Config) {
			c.Salesforce.ConversationHistory = validHistoryAPI()
			c.Salesforce.ConversationHistory.ClientID = ""
		}, "salesforce.conversation_history.client_id", "consumer key"},
		{"history API without username", func(c *Config) {
			c.Salesforce.ConversationHistory = validHistoryAPI()
			c.Salesforce.ConversationHistory.Username = ""
		}, "salesforce.conversation_history.username", "integration user"},
		{"history API login url with a path", func(c *Config) {
			c.Salesforce.ConversationHistory = validHistoryAPI()
			c.Salesforce.ConversationHistory.LoginURL = "https://login.salesforce.com/services/oauth2/token"
		}, "salesforce.conversation_history.login_url", "without a path"},
		{"history API login url over http", func(c *Config) {
			c.Salesforce.ConversationHistory = validHistoryAPI()
			c.Salesforce.ConversationHistory.LoginURL = "http://login.salesforce.com"
		}, "salesforce.conversation_history.login_url", "https"},
		{"history API key missing", func(c *Config) {
			c.Salesforce.ConversationHistory = validHistoryAPI()
			c.Salesforce.ConversationHistory.PrivateKeyFile = "/nonexistent/app.pem"
		}, "salesforce.conversation_history.private_key_file", "does not exist"},
		{"empty capabilities version", func(c *Config) { c.Salesforce.CapabilitiesVersion = "" }, "salesforce.capabilities_version", "empty"},
		{"empty platform", func(c *Config) { c.Salesforce.Platform = "" }, "salesforce.platform", "empty"},
		{"bad auth mode", func(c *Config) { c.Salesforce.AuthMode = "oauth" }, "salesforce.auth_mode", `must be verified, got "oauth"`},
		{"verified without key file", func(c *Config) { c.Salesforce.PrivateKeyFile = "" }, "salesforce.private_key_file", "must be set"},
		{"key file missing", func(c *Config) { c.Salesforce.PrivateKeyFile = "/nonexistent/key.pem" }, "salesforce.private_key_file", "does not exist"},
		{"key file not PEM", func(c *Config) {
			c.Salesforce.PrivateKeyFile = writeFile(t, "junk.pem", []byte("not a key"))
		}, "salesforce.private_key_file", "not a PEM file"},
		{"key file not RSA", func(c *Config) {
			c.Salesforce.PrivateKeyFile = writeFile(t, "ec.pem", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecDER}))
		}, "salesforce.private_key_file", "not an RSA private key"},
		{"key file is a directory", func(c *Config) { c.Salesforce.PrivateKeyFile = t.TempDir() }, "salesforce.private_key_file", "directory"},
		{"verified without key id", func(c *Config) { c.Salesforce.KeyID = "" }, "salesforce.key_id", "must be set"},
		{"verified without issuer", func(c *Config) { c.Salesforce.Issuer = "" }, "salesforce.issuer", "must be set"},
		{"bad signing algorithm", func(c *Config) { c.Salesforce.SigningAlgorithm = "HS256" }, "salesforce.signing_algorithm", "RS256 or RS512"},
		{"zero identity ttl", func(c *Config) { c.Salesforce.IdentityTokenTTL = 0 }, "salesforce.identity_token_ttl", "positive"},
		{"attachment host with path", func(c *Config) { c.Salesforce.AttachmentHosts = []string{"files.example.com/x"} }, "salesforce.attachment_hosts", "host name"},
		{"token rate zero", func(c *Config) { c.Salesforce.TokenRequestsPerMinute = 0 }, "salesforce.token_requests_per_minute", "between 1 and 200"},
		{"token rate over limit", func(c *Config) { c.Salesforce.TokenRequestsPerMinute = 201 }, "salesforce.token_requests_per_minute", "between 1 and 200"},

		{"no topics", func(c *Config) { c.Session.Topics = nil }, "session.topics", "at least one"},
		{"empty topic", func(c *Config) { c.Session.Topics = []string{"HR", " "} }, "session.topics", "entry 2 is empty"},
		{"duplicate topic", func(c *Config) { c.Session.Topics = []string{"HR", "HR"} }, "session.topics", "twice"},
		{"zero accept timeout", func(c *Config) { c.Session.AcceptTimeout = 0 }, "session.accept_timeout", "positive"},
		{"listener heartbeat timeout too short", func(c *Config) { c.Session.ListenerHeartbeatTimeout = 5 * time.Second }, "session.listener_heartbeat_timeout", "between 15s and 10m0s"},
		{"empty timeout message", func(c *Config) { c.Session.TimeoutMessage = "" }, "session.timeout_message", "empty"},
		{"routing result timeout too short", func(c *Config) { c.Session.RoutingResultTimeout = time.Second }, "session.routing_result_timeout", "at least 10s"},
		{"negative routing result timeout", func(c *Config) { c.Session.RoutingResultTimeout = -time.Minute }, "session.routing_result_timeout", "0 (off)"},
		{"unknown handoff topic", func(c *Config) { c.Session.HandoffExcludedTopics = []string{"Gardening"} }, "session.handoff_excluded_topics", `"Gardening" is not one of session.topics`},
		{"idle timeout too short", func(c *Config) { c.Session.IdleTimeout = 30 * time.Second }, "session.idle_timeout", "at least 1m0s"},
		{"transfer timeout too short", func(c *Config) { c.Session.TransferTimeout = 5 * time.Second }, "session.transfer_timeout", "0 (the accept timeout) or 10s to 24h0m0s, got 5s"},
		{"transfer timeout too long", func(c *Config) { c.Session.TransferTimeout = 25 * time.Hour }, "session.transfer_timeout", "10s to 24h0m0s"},
		{"negative transfer timeout", func(c *Config) { c.Session.TransferTimeout = -time.Minute }, "session.transfer_timeout", "10s to 24h0m0s"},
		{"survey window too short", func(c *Config) { c.Session.SurveyWindow = 30 * time.Second }, "session.survey_window", "1m0s to 24h0m0s"},
		{"survey window too long", func(c *Config) { c.Session.SurveyWindow = 25 * time.Hour }, "session.survey_window", "1m0s to 24h0m0s"},
		{"typing quiet time off", func(c *Config) { c.Session.TypingQuietTime = 0 }, "session.typing_quiet_time", "must be 1s to 1m0s"},
		{"agent typing expiry too long", func(c *Config) { c.Session.AgentTypingExpiry = time.Hour }, "session.agent_typing_expiry", "must be 1s to 1m0s"},
		{"negative message rate", func(c *Config) { c.Session.MessageRate = -1 }, "session.message_rate", "0 (no pacing)"},
		{"message rate window too short", func(c *Config) { c.Session.MessageRateWindow = time.Millisecond }, "session.message_rate_window", "must be 1s to 1h"},
		{"empty locale", func(c *Config) { c.Session.DefaultLocale = "" }, "session.default_locale", "empty"},
		{"empty user field", func(c *Config) { c.Session.Routing.UserField = "" }, "session.routing.user_field", "empty"},
		{"empty topic field", func(c *Config) { c.Session.Routing.TopicField = "" }, "session.routing.topic_field", "empty"},
		{"same routing fields", func(c *Config) { c.Session.Routing.TopicField = "UserId" }, "session.routing.topic_field", "differ"},
		{"zero message size", func(c *Config) { c.Session.MaxMessageBytes = 0 }, "session.max_message_bytes", "positive"},
		{"zero attachment size", func(c *Config) { c.Session.MaxAttachmentBytes = -1 }, "session.max_attachment_bytes", "positive"},
		{"bad MIME type", func(c *Config) { c.Session.AllowedAttachmentTypes = []string{"image/png", "pdf"} }, "session.allowed_attachment_types", "entry 2"},

		{"empty attachment dir", func(c *Config) { c.Attachments.Dir = "" }, "attachments.dir", "empty"},
		{"bad public url", func(c *Config) { c.Attachments.PublicURL = "ftp://x/y" }, "attachments.public_url", "http or https"},
		{"zero download cap", func(c *Config) { c.Attachments.MaxDownloadBytes = 0 }, "attachments.max_download_bytes", "positive"},
		{"retention under an hour", func(c *Config) { c.Attachments.Retention = 30 * time.Minute }, "attachments.retention", "at least 1h"},
		{"negative retention", func(c *Config) { c.Attachments.Retention = -time.Hour }, "attachments.retention", "keep forever"},

		{"bad delivery mode", func(c *Config) { c.Delivery.Mode = "email" }, "delivery.mode", "webhook or console"},
		{"webhook without url", func(c *Config) { c.Delivery.Mode = DeliveryWebhook; c.Delivery.WebhookSecret = "s" }, "delivery.webhook_url", "must be set"},
		{"webhook bad url", func(c *Config) {
			c.Delivery.Mode, c.Delivery.WebhookURL, c.Delivery.WebhookSecret = DeliveryWebhook, "not a url", "s"
		}, "delivery.webhook_url", "absolute"},
		{"webhook without secret", func(c *Config) {
			c.Delivery.Mode, c.Delivery.WebhookURL = DeliveryWebhook, "https://assistant.example.com/hook"
		}, "delivery.webhook_secret", "must be set"},
		{"zero delivery timeout", func(c *Config) { c.Delivery.Timeout = 0 }, "delivery.timeout", "positive"},

		{"zero listener slots", func(c *Config) { c.Worker.ListenerSlots = 0 }, "worker.listener_slots", "positive"},
		{"zero activity slots", func(c *Config) { c.Worker.ActivitySlots = 0 }, "worker.activity_slots", "positive"},
		{"bad metrics listen", func(c *Config) { c.Worker.MetricsListen = "9090" }, "worker.metrics_listen", "host:port"},
		{"pprof without metrics", func(c *Config) { c.Worker.PProf = true }, "worker.pprof", "needs worker.metrics_listen"},
		{"negative workflow cache", func(c *Config) { c.Worker.WorkflowCacheSize = -1 }, "worker.workflow_cache_size", "must not be negative"},

		{"bad gateway listen", func(c *Config) { c.Gateway.Listen = "nowhere" }, "gateway.listen", "host:port"},
		{"zero gateway body", func(c *Config) { c.Gateway.MaxBodyBytes = 0 }, "gateway.max_body_bytes", "positive"},

		{"codec key not base64", func(c *Config) { c.Codec.Keys = map[string]string{"k1": "%%%"} }, "codec.keys", "not valid base64"},
		{"codec key wrong size", func(c *Config) { c.Codec.Keys = map[string]string{"k1": b64Key(16)} }, "codec.keys", `entry "k1": key must be base64 of 32 bytes (AES-256), got 16 bytes`},
		{"codec key empty", func(c *Config) { c.Codec.Keys = map[string]string{"k1": " "} }, "codec.keys", `entry "k1": empty key`},
		{"codec key id with space", func(c *Config) { c.Codec.Keys = map[string]string{"my key": b64Key(32)} }, "codec.keys", `entry "my key": key id must be printable ASCII without spaces`},
		{"codec key id too long", func(c *Config) { c.Codec.Keys = map[string]string{strings.Repeat("k", 65): b64Key(32)} }, "codec.keys", "at most 64 characters"},
		{"codec second key bad while enabled", func(c *Config) {
			c.Codec.Enabled, c.Codec.ActiveKeyID = true, "k1"
			c.Codec.Keys = map[string]string{"k1": b64Key(32), "k2": b64Key(31)}
		}, "codec.keys", `entry "k2": key must be base64 of 32 bytes`},
		{"codec cors origin with path", func(c *Config) { c.Codec.CORSOrigins = []string{"http://127.0.0.1:8233/ui"} }, "codec.cors_origins", "entry 1"},
		{"codec cors origin not a url", func(c *Config) { c.Codec.CORSOrigins = []string{"*", "temporal-ui"} }, "codec.cors_origins", "entry 2"},
		{"codec operator token padded", func(c *Config) { c.Codec.OperatorToken = " tok " }, "codec.operator_token", "white space"},
		{"codec enabled without keys", func(c *Config) { c.Codec.Enabled = true }, "codec.keys", "at least one key"},
		{"codec enabled without active key", func(c *Config) {
			c.Codec.Enabled, c.Codec.Keys = true, map[string]string{"k1": b64Key(32)}
		}, "codec.active_key_id", "must be set"},
		{"codec active key absent", func(c *Config) {
			c.Codec.Enabled, c.Codec.Keys, c.Codec.ActiveKeyID = true, map[string]string{"k1": b64Key(32)}, "k2"
		}, "codec.active_key_id", "not one of codec.keys"},

		{"bad log level", func(c *Config) { c.Log.Level = "verbose" }, "log.level", "debug, info, warn or error"},
		{"bad log format", func(c *Config) { c.Log.Format = "xml" }, "log.format", "text or json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig(t)
			tt.mutate(c)
			err := c.Validate()
			require.Error(t, err)
			var fe *FieldError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, tt.key, fe.Key)
			msg := err.Error()
			assert.True(t, strings.HasPrefix(msg, "config: "+tt.key+": "), msg)
			assert.Contains(t, msg, tt.message)
			assert.NotContains(t, msg, "\n", "errors are one line")
		})
	}
}

func TestCodecEnabledValid(t *testing.T) {
	c := validConfig(t)
	c.Codec.Enabled = true
	c.Codec.Keys = map[string]string{"k1": b64Key(32), "k2": b64Key(32)}
	c.Codec.ActiveKeyID = "k2"
	c.Codec.CORSOrigins = []string{"http://127.0.0.1:8233", "*"}
	c.Codec.OperatorToken = "operator-token-0123456789abcdef0123456789abcdef"
	require.NoError(t, c.Validate())

	// What validation accepts, the codec builds a keyring from: URL-safe,
	// unpadded base64 too.
	c.Codec.Keys["k2"] = base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{0xfb}, 32))
	require.NoError(t, c.Validate())
	_, err := codec.ParseKeyring(c.Codec.ActiveKeyID, c.Codec.Keys)
	require.NoError(t, err)
}

func TestErrorsNeverContainSecrets(t *testing.T) {
	c := validConfig(t)
	secretKey := "c2VjcmV0LXNlY3JldA==" // 13 bytes: invalid size
	c.Codec.Keys = map[string]string{"k1": secretKey}
	err := c.Validate()
	require.Error(t, err)
	assert.NotContains(t, err.Error(), secretKey)

	c = validConfig(t)
	c.Delivery.Mode = DeliveryWebhook
	c.Delivery.WebhookURL = "::bad-url-with-token-SECRET123"
	c.Delivery.WebhookSecret = "s"
	err = c.Validate()
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "SECRET123")
}

const sampleYAML = `
temporal:
  address: temporal.internal:7233
  namespace: hr
salesforce:
  scrt_url: https://acme.my.salesforce-scrt.com
  org_id: 00D000000000001
  deployment: Live_Agent_Bridge
  private_key_file: %s
  key_id: bridge-1
  issuer: liveagent-bridge
  attachment_hosts: [files.acme.example]
session:
  topics: [HR, Payroll]
  accept_timeout: 90s
  max_attachment_bytes: 2MiB
delivery:
  mode: webhook
  webhook_url: https://assistant.example.com/hook
  webhook_secret: file-secret-0123456789abcdef0123456789abcdef
codec:
  enabled: true
  active_key_id: K1
  keys:
    K1: %s
worker:
  listener_slots: 50
`

func writeSample(t *testing.T) string {
	return writeFile(t, "liveagent.yaml", fmt.Appendf(nil, sampleYAML, pkcs1KeyFile(t), b64Key(32)))
}

func TestLoadFile(t *testing.T) {
	cfg, err := Load(writeSample(t))
	require.NoError(t, err)
	assert.Equal(t, "temporal.internal:7233", cfg.Temporal.Address)
	assert.Equal(t, "hr", cfg.Temporal.Namespace)
	assert.Equal(t, []string{"HR", "Payroll"}, cfg.Session.Topics)
	assert.Equal(t, 90*time.Second, cfg.Session.AcceptTimeout)
	assert.Equal(t, int64(2<<20), cfg.Session.MaxAttachmentBytes)
	assert.Equal(t, []string{"files.acme.example"}, cfg.Salesforce.AttachmentHosts)
	assert.Equal(t, "file-secret-0123456789abcdef0123456789abcdef", cfg.Delivery.WebhookSecret)
	assert.Equal(t, 50, cfg.Worker.ListenerSlots)
	assert.Equal(t, "k1", cfg.Codec.ActiveKeyID, "key ids are case-insensitive")
	assert.Contains(t, cfg.Codec.Keys, "k1")
	// Defaults fill what the file leaves out.
	assert.Equal(t, 200, cfg.Worker.ActivitySlots)
	assert.Equal(t, "Welcome to HR Live Chat!", cfg.Session.Greeting)
	assert.Equal(t, 10*time.Second, cfg.Delivery.Timeout)
	assert.Equal(t, "RS256", cfg.Salesforce.SigningAlgorithm)
}

func TestEnvOverridesFile(t *testing.T) {
	path := writeSample(t)
	t.Setenv("LIVEAGENT_SALESFORCE_ORG_ID", "00D000000000002AAA")
	t.Setenv("LIVEAGENT_SESSION_TOPICS", "Benefits, Leave")
	t.Setenv("LIVEAGENT_SESSION_ACCEPT_TIMEOUT", "2m")
	t.Setenv("LIVEAGENT_WORKER_LISTENER_SLOTS", "7")
	t.Setenv("LIVEAGENT_SALESFORCE_ALLOW_ANY_HOST", "true")
	t.Setenv("LIVEAGENT_DELIVERY_WEBHOOK_SECRET", "env-secret-0123456789abcdef0123456789abcdef")
	t.Setenv("LIVEAGENT_ATTACHMENTS_MAX_DOWNLOAD_BYTES", "1KiB")
	t.Setenv("LIVEAGENT_CODEC_KEYS", "k1="+b64Key(32)+",k2="+b64Key(32))
	t.Setenv("LIVEAGENT_CODEC_ACTIVE_KEY_ID", "K2")
	t.Setenv("TEMPORAL_NAMESPACE", "from-temporal-env")
	t.Setenv("TEMPORAL_API_KEY", "tk-123")

	cfg, err := Load(path)
	require.NoError(t, err)
	assert.Equal(t, "00D000000000002AAA", cfg.Salesforce.OrgID)
	assert.Equal(t, []string{"Benefits", "Leave"}, cfg.Session.Topics)
	assert.Equal(t, 2*time.Minute, cfg.Session.AcceptTimeout)
	assert.Equal(t, 7, cfg.Worker.ListenerSlots)
	assert.True(t, cfg.Salesforce.AllowAnyHost)
	assert.Equal(t, "env-secret-0123456789abcdef0123456789abcdef", cfg.Delivery.WebhookSecret)
	assert.Equal(t, int64(1024), cfg.Attachments.MaxDownloadBytes)
	assert.Len(t, cfg.Codec.Keys, 2)
	assert.Equal(t, "k2", cfg.Codec.ActiveKeyID)
	assert.Equal(t, "from-temporal-env", cfg.Temporal.Namespace)
	assert.Equal(t, "tk-123", cfg.Temporal.APIKey)
}

func TestLiveagentEnvBeatsTemporalEnv(t *testing.T) {
	t.Setenv("TEMPORAL_ADDRESS", "from-temporal:7233")
	cfg, err := load("")
	require.NoError(t, err)
	assert.Equal(t, "from-temporal:7233", cfg.Temporal.Address)

	t.Setenv("LIVEAGENT_TEMPORAL_ADDRESS", "from-liveagent:7233")
	cfg, err = load("")
	require.NoError(t, err)
	assert.Equal(t, "from-liveagent:7233", cfg.Temporal.Address)
}

func TestLoadWithoutFileUsesEnvOnly(t *testing.T) {
	t.Setenv("LIVEAGENT_SALESFORCE_SCRT_URL", "http://127.0.0.1:8090")
	t.Setenv("LIVEAGENT_SALESFORCE_ALLOW_ANY_HOST", "true")
	t.Setenv("LIVEAGENT_SALESFORCE_ORG_ID", "00D000000000001")
	t.Setenv("LIVEAGENT_SALESFORCE_DEPLOYMENT", "Dev")
	t.Setenv("LIVEAGENT_SALESFORCE_PRIVATE_KEY_FILE", pkcs1KeyFile(t))
	t.Setenv("LIVEAGENT_SALESFORCE_KEY_ID", "bridge-1")
	t.Setenv("LIVEAGENT_SALESFORCE_ISSUER", "liveagent-bridge")
	t.Setenv("LIVEAGENT_SESSION_TOPICS", "HR")
	cfg, err := Load("")
	require.NoError(t, err)
	assert.Equal(t, "http://127.0.0.1:8090", cfg.Salesforce.SCRTURL)
	assert.Equal(t, []string{"HR"}, cfg.Session.Topics)

	t.Setenv("LIVEAGENT_SESSION_TOPICS", "")
	_, err = Load("")
	var fe *FieldError
	require.ErrorAs(t, err, &fe, "an empty list variable counts as unset, so the empty default applies")
	assert.Equal(t, "session.topics", fe.Key)
}

func TestLoadDecodeErrors(t *testing.T) {
	tests := []struct {
		name, yaml, env, envValue, key, message string
	}{
		{name: "bad duration in file", yaml: "session:\n  accept_timeout: 5 minutes\n", key: "session.accept_timeout", message: "duration"},
		{name: "number as duration", yaml: "session:\n  accept_timeout: 300\n", key: "session.accept_timeout", message: "duration"},
		{name: "bad duration in env", env: "LIVEAGENT_DELIVERY_TIMEOUT", envValue: "soon", key: "delivery.timeout", message: "duration"},
		{name: "bad integer in env", env: "LIVEAGENT_WORKER_ACTIVITY_SLOTS", envValue: "many", key: "worker.activity_slots", message: "integer"},
		{name: "bad byte count", yaml: "gateway:\n  max_body_bytes: 8 megs\n", key: "gateway.max_body_bytes", message: "byte count"},
		{name: "bad bool", env: "LIVEAGENT_CODEC_ENABLED", envValue: "perhaps", key: "codec.enabled", message: "true or false"},
		{name: "list given a map", yaml: "session:\n  topics:\n    a: b\n", key: "session.topics", message: "list"},
		{name: "bad map entry in env", env: "LIVEAGENT_CODEC_KEYS", envValue: "novalue", key: "codec.keys", message: "id=value"},
		{name: "unknown key", yaml: "salesforce:\n  orgid: 00D000000000001\n", key: "salesforce.orgid", message: "unknown key"},
		{name: "unknown section", yaml: "salesforse:\n  org_id: x\n", key: "salesforse.org_id", message: "unknown key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := ""
			if tt.yaml != "" {
				path = writeFile(t, "c.yaml", []byte(tt.yaml))
			}
			if tt.env != "" {
				t.Setenv(tt.env, tt.envValue)
			}
			_, err := Load(path)
			require.Error(t, err)
			var fe *FieldError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, tt.key, fe.Key)
			assert.Contains(t, err.Error(), tt.message)
			assert.NotContains(t, err.Error(), "\n")
		})
	}
}

func TestLoadFileErrors(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "missing.yaml"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "file does not exist")

	_, err = Load(writeFile(t, "broken.yaml", []byte("temporal: [unclosed\n  x: :\n")))
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "config: read "), err.Error())
	assert.NotContains(t, err.Error(), "\n")
}

func TestRedacted(t *testing.T) {
	c := validConfig(t)
	c.Temporal.APIKey = "api-key-value"
	c.Delivery.WebhookSecret = "webhook-secret-value-0123456789abcdef0123456789abcdef"
	c.Gateway.BearerToken = "bearer-token-value-0123456789abcdef0123456789abcdef"
	c.Codec.Keys = map[string]string{"k1": "codec-key-value"}
	c.Codec.OperatorToken = "operator-token-value-0123456789abcdef0123456789abcdef"
	c.Attachments.LinkSecret = "link-secret-value-0123456789abcdef0123456789abcdef"
	c.Session.Topics = []string{"HR"}

	r := c.Redacted()
	dump := fmt.Sprintf("%+v", *r)
	for _, secret := range []string{"link-secret-value-0123456789abcdef0123456789abcdef", "api-key-value", "webhook-secret-value-0123456789abcdef0123456789abcdef", "bearer-token-value-0123456789abcdef0123456789abcdef", "codec-key-value", "operator-token-value-0123456789abcdef0123456789abcdef"} {
		assert.NotContains(t, dump, secret)
	}
	assert.Equal(t, "[redacted]", r.Temporal.APIKey)
	assert.Equal(t, "[redacted]", r.Codec.Keys["k1"])
	assert.Equal(t, "", Default().Redacted().Gateway.BearerToken, "unset secrets stay empty")

	// The original is untouched and the copy does not share slices or maps.
	assert.Equal(t, "api-key-value", c.Temporal.APIKey)
	assert.Equal(t, "codec-key-value", c.Codec.Keys["k1"])
	r.Session.Topics[0] = "changed"
	assert.Equal(t, "HR", c.Session.Topics[0])
}

func TestMappers(t *testing.T) {
	c := validConfig(t)
	c.Salesforce.AttachmentHosts = []string{"files.example.com"}
	c.Session.AllowedAttachmentTypes = []string{"image/png"}

	m := c.MIAW()
	assert.Equal(t, c.Salesforce.SCRTURL, m.BaseURL)
	assert.Equal(t, "00D000000000001", m.OrgID)
	assert.Equal(t, "Live_Agent_Bridge", m.DeploymentName)
	assert.Equal(t, miaw.AuthMode("verified"), m.AuthMode)
	assert.Equal(t, c.Salesforce.PrivateKeyFile, m.PrivateKeyFile)
	assert.Equal(t, "bridge-1", m.KeyID)
	assert.Equal(t, "liveagent-bridge", m.Issuer)
	assert.Equal(t, "RS256", m.SigningAlgorithm)
	assert.Equal(t, 5*time.Minute, m.IdentityTokenTTL)
	assert.Equal(t, int64(25<<20), m.MaxDownloadBytes)
	assert.Equal(t, int64(5<<20), m.MaxAttachmentBytes)
	assert.Equal(t, 180, m.TokenRequestsPerMinute)
	assert.Equal(t, []string{"files.example.com"}, m.AttachmentHosts)
	require.NoError(t, m.Validate(), "a valid config maps to a valid miaw config")

	s := c.SessionSettings()
	assert.Equal(t, []string{"HR", "IT"}, s.Topics)
	assert.Equal(t, 5*time.Minute, s.AcceptTimeout)
	assert.Equal(t, "Welcome to HR Live Chat!", s.Greeting)
	assert.Equal(t, c.Session.TimeoutMessage, s.TimeoutMessage)
	assert.Equal(t, c.Session.AgentEndedMessage, s.AgentEndedMessage)
	assert.Equal(t, "en_US", s.DefaultLocale)
	assert.Equal(t, "UserId", s.RoutingUserField)
	assert.Equal(t, "Topic", s.RoutingTopicField)
	assert.Equal(t, 4000, s.MaxMessageBytes)
	assert.Equal(t, int64(5<<20), s.MaxAttachmentBytes)
	assert.Equal(t, []string{"image/png"}, s.AllowedAttachmentTypes)
	assert.Zero(t, s.SurveyWindow, "no survey unless configured")
	c.Session.SurveyWindow = 15 * time.Minute
	assert.Equal(t, 15*time.Minute, c.SessionSettings().SurveyWindow)
	assert.Zero(t, s.TransferTimeout, "0: a transfer waits the accept timeout")
	assert.Empty(t, s.InactiveEndedMessage, "empty: the built-in text")
	c.Session.TransferTimeout = 10 * time.Second
	c.Session.InactiveEndedMessage = "Closed for inactivity."
	require.NoError(t, c.Validate(), "10s is the shortest transfer timeout")
	assert.Equal(t, 10*time.Second, c.SessionSettings().TransferTimeout)
	assert.Equal(t, "Closed for inactivity.", c.SessionSettings().InactiveEndedMessage)
	c.Session.TransferTimeout = 24 * time.Hour
	require.NoError(t, c.Validate(), "24h is the longest transfer timeout")
	s.Topics[0] = "changed"
	assert.Equal(t, "HR", c.Session.Topics[0], "settings do not alias the config")
}

// session.transfer_timeout and session.inactive_ended_message load from the
// file and the environment like their neighbours; a bad transfer timeout
// fails at start in one line naming the key.
func TestLoadTransferTimeoutAndInactiveEndedMessage(t *testing.T) {
	envOnly(t)
	cfg, err := Load(writeFile(t, "c.yaml", []byte("session:\n  transfer_timeout: 90s\n  inactive_ended_message: Closed for inactivity.\n")))
	require.NoError(t, err)
	assert.Equal(t, 90*time.Second, cfg.SessionSettings().TransferTimeout)
	assert.Equal(t, "Closed for inactivity.", cfg.SessionSettings().InactiveEndedMessage)

	t.Setenv("LIVEAGENT_SESSION_TRANSFER_TIMEOUT", "2h")
	t.Setenv("LIVEAGENT_SESSION_INACTIVE_ENDED_MESSAGE", "Bye.")
	cfg, err = Load("")
	require.NoError(t, err)
	assert.Equal(t, 2*time.Hour, cfg.Session.TransferTimeout)
	assert.Equal(t, "Bye.", cfg.Session.InactiveEndedMessage)

	for value, reason := range map[string]string{
		"soon": `must be a duration like 30s or 5m, got "soon"`,
		"5s":   "must be 0 (the accept timeout) or 10s to 24h0m0s, got 5s",
		"48h":  "must be 0 (the accept timeout) or 10s to 24h0m0s, got 48h0m0s",
	} {
		t.Setenv("LIVEAGENT_SESSION_TRANSFER_TIMEOUT", value)
		_, err = Load("")
		var fe *FieldError
		require.ErrorAs(t, err, &fe, value)
		assert.Equal(t, "session.transfer_timeout", fe.Key)
		assert.Equal(t, reason, fe.Reason)
		assert.NotContains(t, err.Error(), "\n")
	}
}

// Against the emulator (allow_any_host) a scale run may lift the token
// rate above Salesforce's 200 per minute.
func TestTokenRateAboveSalesforceOnlyForTheEmulator(t *testing.T) {
	c := validConfig(t)
	c.Salesforce.TokenRequestsPerMinute = 5000
	require.ErrorContains(t, c.Validate(), "more only with salesforce.allow_any_host")
	c.Salesforce.AllowAnyHost = true
	require.NoError(t, c.Validate())
}

func validHistoryAPI() ConversationHistory {
	return ConversationHistory{Enabled: true, ChannelAddressIdentifier: "b6e8a1f0-0000-4000-8000-000000000001",
		ConnectedApp: "Bridge_App", LoginURL: DefaultLoginURL, ClientID: "3MVG9-consumer-key", Username: "bridge@acme.example"}
}

func TestHistoryAPIMapping(t *testing.T) {
	c := validConfig(t)
	_, ok := c.HistoryAPI()
	assert.False(t, ok, "off by default")
	c.Salesforce.ConversationHistory = validHistoryAPI()
	c.Salesforce.ConversationHistory.LoginURL = "https://acme.my.salesforce.com/"
	require.NoError(t, c.Validate())
	h, ok := c.HistoryAPI()
	require.True(t, ok)
	assert.Equal(t, c.Salesforce.SCRTURL, h.BaseURL)
	assert.Equal(t, "https://acme.my.salesforce.com", h.LoginURL, "no trailing slash: it is the JWT audience")
	assert.Equal(t, c.Salesforce.PrivateKeyFile, h.PrivateKeyFile, "the identity-signing key unless a key of its own is set")
	assert.Equal(t, "Bridge_App", h.ConnectedApp)
	require.NoError(t, h.Validate())
	own := writeFile(t, "app.pem", readFile(t, c.Salesforce.PrivateKeyFile))
	c.Salesforce.ConversationHistory.PrivateKeyFile = own
	require.NoError(t, c.Validate())
	h, _ = c.HistoryAPI()
	assert.Equal(t, own, h.PrivateKeyFile)
}

func TestKeysAndEnvNames(t *testing.T) {
	keys := Keys()
	assert.Contains(t, keys, "salesforce.org_id")
	assert.Contains(t, keys, "codec.keys")
	assert.Equal(t, "LIVEAGENT_SALESFORCE_ORG_ID", EnvName("salesforce.org_id"))
	assert.Equal(t, "LIVEAGENT_SESSION_ROUTING_USER_FIELD", EnvName("session.routing.user_field"))
	// Every key is documented in doc.go.
	doc, err := os.ReadFile("doc.go")
	require.NoError(t, err)
	for _, k := range keys {
		leaf := k[strings.LastIndex(k, ".")+1:]
		assert.Contains(t, string(doc), "//\t"+strings.Repeat("  ", strings.Count(k, "."))+leaf+":", "key %s is documented", k)
	}
}

func TestFieldErrorIs(t *testing.T) {
	err := fmt.Errorf("start: %w", fieldErr("log.level", "bad"))
	var fe *FieldError
	require.True(t, errors.As(err, &fe))
	assert.Equal(t, "config: log.level: bad", fe.Error())
}

// The key reference in doc.go is valid YAML whose values are exactly the
// defaults, so it can be copied as a sample configuration.
func TestDocumentedDefaultsMatchCode(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	require.NoError(t, err)
	var yaml []string
	for _, line := range strings.Split(string(doc), "\n") {
		if strings.HasPrefix(line, "//\t") {
			yaml = append(yaml, strings.TrimPrefix(line, "//\t"))
		}
	}
	// The first indented line is the example error message, not YAML.
	require.True(t, strings.HasPrefix(yaml[0], "config: "), yaml[0])
	path := writeFile(t, "doc.yaml", []byte(strings.Join(yaml[1:], "\n")+"\n"))
	got, err := load(path)
	require.NoError(t, err)
	want := Default()
	// Empty lists and maps read from YAML are empty, not nil.
	assert.Empty(t, got.Session.Topics)
	assert.Empty(t, got.Codec.Keys)
	got.Session.Topics, got.Session.AllowedAttachmentTypes, got.Salesforce.AttachmentHosts = nil, nil, nil
	got.Session.HandoffExcludedTopics = nil
	got.Codec.Keys, got.Codec.CORSOrigins = nil, nil
	assert.Equal(t, want, got)
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return data
}
