package config

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/liveagent-bridge/liveagent/codec"
	"github.com/liveagent-bridge/liveagent/locales"
	"github.com/liveagent-bridge/liveagent/workflows"
)

// Validate checks every key and returns the first problem as a *FieldError
// (one line naming the key), or nil.
// Lower bounds of the session timeouts that may be 0 (off): shorter ones
// would end sessions Salesforce is still routing, or chats mid-sentence.
const (
	MinRoutingResultTimeout = 10 * time.Second
	MinIdleTimeout          = time.Minute
	// Bounds of session.transfer_timeout when it is not 0.
	MinTransferTimeout = 10 * time.Second
	MaxTransferTimeout = 24 * time.Hour
	// Bounds of session.survey_window when it is not 0.
	MinSurveyWindow = time.Minute
	MaxSurveyWindow = 24 * time.Hour
)

// Bounds of the typing times (session.typing_quiet_time,
// session.agent_typing_expiry).
const (
	MinTypingTime = time.Second
	MaxTypingTime = time.Minute
)

func (c *Config) Validate() error {
	checks := []func() error{
		c.validateTemporal,
		c.validateSalesforce,
		c.validateConversationHistory,
		c.validateSession,
		c.validateAttachments,
		c.validateDelivery,
		c.validateWorker,
		c.validateGateway,
		c.validateCodec,
		c.validateSecrets,
		c.validateLog,
		c.validateAvailability,
		c.validateLocales,
	}
	for _, check := range checks {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

func (c *Config) validateTemporal() error {
	t := c.Temporal
	for addr := range strings.SplitSeq(t.Address, ",") {
		if err := hostPort(strings.TrimSpace(addr)); err != nil {
			return fieldErr("temporal.address", "%s (several frontends: comma-separated host:port)", err)
		}
	}
	if strings.TrimSpace(t.Namespace) == "" {
		return fieldErr("temporal.namespace", "must not be empty")
	}
	if (t.TLS.CertFile == "") != (t.TLS.KeyFile == "") {
		if t.TLS.CertFile == "" {
			return fieldErr("temporal.tls.cert_file", "must be set when temporal.tls.key_file is set")
		}
		return fieldErr("temporal.tls.key_file", "must be set when temporal.tls.cert_file is set")
	}
	for key, path := range map[string]string{
		"temporal.tls.cert_file": t.TLS.CertFile,
		"temporal.tls.key_file":  t.TLS.KeyFile,
		"temporal.tls.ca_file":   t.TLS.CAFile,
	} {
		if path == "" {
			continue
		}
		if err := readable(path); err != nil {
			return fieldErr(key, "%s: %s", path, err)
		}
	}
	return nil
}

func (c *Config) validateSalesforce() error {
	s := c.Salesforce
	if s.SCRTURL == "" {
		return fieldErr("salesforce.scrt_url", "must be set (the Salesforce SCRT URL, https://<org>.my.salesforce-scrt.com)")
	}
	u, err := url.Parse(s.SCRTURL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return fieldErr("salesforce.scrt_url", "must be an absolute http(s) URL")
	}
	if !s.AllowAnyHost {
		if u.Scheme != "https" {
			return fieldErr("salesforce.scrt_url", "must use https (set salesforce.allow_any_host only for the emulator)")
		}
		host := strings.ToLower(u.Hostname())
		if host != "salesforce-scrt.com" && !strings.HasSuffix(host, ".salesforce-scrt.com") {
			return fieldErr("salesforce.scrt_url", "host %q must end in salesforce-scrt.com (set salesforce.allow_any_host only for the emulator)", u.Hostname())
		}
	}
	if !validOrgID(s.OrgID) {
		return fieldErr("salesforce.org_id", `must start with "00D" and be 15 or 18 characters`)
	}
	if strings.TrimSpace(s.Deployment) == "" {
		return fieldErr("salesforce.deployment", "must be set (the Embedded Service deployment API name)")
	}
	if strings.TrimSpace(s.CapabilitiesVersion) == "" {
		return fieldErr("salesforce.capabilities_version", "must not be empty")
	}
	if strings.TrimSpace(s.Platform) == "" {
		return fieldErr("salesforce.platform", "must not be empty")
	}
	switch s.AuthMode {
	case AuthVerified:
		if s.PrivateKeyFile == "" {
			return fieldErr("salesforce.private_key_file", "must be set when salesforce.auth_mode is verified")
		}
		if err := checkRSAKeyFile(s.PrivateKeyFile); err != nil {
			return fieldErr("salesforce.private_key_file", "%s: %s", s.PrivateKeyFile, err)
		}
		if strings.TrimSpace(s.KeyID) == "" {
			return fieldErr("salesforce.key_id", "must be set when salesforce.auth_mode is verified")
		}
		if strings.TrimSpace(s.Issuer) == "" {
			return fieldErr("salesforce.issuer", "must be set when salesforce.auth_mode is verified")
		}
	case AuthGuest:
		return fieldErr("salesforce.auth_mode", "%s", guestUnsupported)
	default:
		return fieldErr("salesforce.auth_mode", "must be verified, got %q", s.AuthMode)
	}
	if s.SigningAlgorithm != "RS256" && s.SigningAlgorithm != "RS512" {
		return fieldErr("salesforce.signing_algorithm", "must be RS256 or RS512, got %q", s.SigningAlgorithm)
	}
	if s.IdentityTokenTTL <= 0 {
		return fieldErr("salesforce.identity_token_ttl", "must be a positive duration")
	}
	for i, h := range s.AttachmentHosts {
		if strings.TrimSpace(h) == "" || strings.ContainsAny(h, "/ ") {
			return fieldErr("salesforce.attachment_hosts", "entry %d must be a host name", i+1)
		}
	}
	if s.TokenRequestsPerMinute <= 0 || (s.TokenRequestsPerMinute > 200 && !s.AllowAnyHost) {
		return fieldErr("salesforce.token_requests_per_minute", "must be between 1 and 200 (Salesforce allows 200 per minute per org; more only with salesforce.allow_any_host, against the emulator)")
	}
	return nil
}

func validOrgID(id string) bool {
	if len(id) != 15 && len(id) != 18 {
		return false
	}
	if !strings.HasPrefix(id, "00D") {
		return false
	}
	for _, r := range id {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

// checkRSAKeyFile reports whether path holds a PEM RSA private key (PKCS#1 or
// PKCS#8). It never echoes the file's content.
func checkRSAKeyFile(path string) error {
	if err := readable(path); err != nil {
		return err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("cannot read file")
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return fmt.Errorf("not a PEM file")
	}
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil && k != nil {
		return nil
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return fmt.Errorf("not a PKCS#1 or PKCS#8 private key")
	}
	if _, ok := k.(*rsa.PrivateKey); !ok {
		return fmt.Errorf("not an RSA private key")
	}
	return nil
}

func (c *Config) validateSession() error {
	s := c.Session
	if len(s.Topics) == 0 {
		return fieldErr("session.topics", "must list at least one topic")
	}
	seen := map[string]bool{}
	for i, t := range s.Topics {
		if strings.TrimSpace(t) == "" {
			return fieldErr("session.topics", "entry %d is empty", i+1)
		}
		if seen[t] {
			return fieldErr("session.topics", "topic %q is listed twice", t)
		}
		seen[t] = true
	}
	if s.AcceptTimeout <= 0 {
		return fieldErr("session.accept_timeout", "must be a positive duration")
	}
	if t := s.ListenerHeartbeatTimeout; t < workflows.MinListenerHeartbeatTimeout || t > workflows.MaxListenerHeartbeatTimeout {
		return fieldErr("session.listener_heartbeat_timeout", "must be between %s and %s, got %s",
			workflows.MinListenerHeartbeatTimeout, workflows.MaxListenerHeartbeatTimeout, t)
	}
	if n := s.ListenerShards; n < 0 || n > workflows.MaxListenerShards {
		return fieldErr("session.listener_shards", "must be between 0 and %d, got %d", workflows.MaxListenerShards, n)
	}
	if strings.TrimSpace(s.TimeoutMessage) == "" {
		return fieldErr("session.timeout_message", "must not be empty")
	}
	for _, t := range s.HandoffExcludedTopics {
		if !slices.Contains(s.Topics, t) {
			return fieldErr("session.handoff_excluded_topics", "topic %q is not one of session.topics", t)
		}
	}
	if t := s.RoutingResultTimeout; t != 0 && t < MinRoutingResultTimeout {
		return fieldErr("session.routing_result_timeout", "must be 0 (off) or at least %s, got %s", MinRoutingResultTimeout, t)
	}
	if t := s.IdleTimeout; t != 0 && t < MinIdleTimeout {
		return fieldErr("session.idle_timeout", "must be 0 (off) or at least %s, got %s", MinIdleTimeout, t)
	}
	if t := s.TransferTimeout; t != 0 && (t < MinTransferTimeout || t > MaxTransferTimeout) {
		return fieldErr("session.transfer_timeout", "must be 0 (the accept timeout) or %s to %s, got %s", MinTransferTimeout, MaxTransferTimeout, t)
	}
	if s.MessageRate < 0 || s.MessageRate > 1000 {
		return fieldErr("session.message_rate", "must be 0 (no pacing) to 1000, got %d", s.MessageRate)
	}
	if w := s.MessageRateWindow; s.MessageRate > 0 && (w < time.Second || w > time.Hour) {
		return fieldErr("session.message_rate_window", "must be 1s to 1h, got %s", w)
	}
	if t := s.SurveyWindow; t != 0 && (t < MinSurveyWindow || t > MaxSurveyWindow) {
		return fieldErr("session.survey_window", "must be 0 (no survey) or %s to %s, got %s", MinSurveyWindow, MaxSurveyWindow, t)
	}
	for _, f := range []struct {
		key string
		t   time.Duration
	}{{"session.typing_quiet_time", s.TypingQuietTime}, {"session.agent_typing_expiry", s.AgentTypingExpiry}} {
		if f.t < MinTypingTime || f.t > MaxTypingTime {
			return fieldErr(f.key, "must be %s to %s, got %s", MinTypingTime, MaxTypingTime, f.t)
		}
	}
	if strings.TrimSpace(s.DefaultLocale) == "" {
		return fieldErr("session.default_locale", "must not be empty")
	}
	if l, err := locales.Normalize(s.DefaultLocale); err != nil {
		return fieldErr("session.default_locale", "%s", err)
	} else if l == "" {
		return fieldErr("session.default_locale", "must name a language (e.g. en_US)")
	}
	if strings.TrimSpace(s.Routing.UserField) == "" {
		return fieldErr("session.routing.user_field", "must not be empty")
	}
	if strings.TrimSpace(s.Routing.TopicField) == "" {
		return fieldErr("session.routing.topic_field", "must not be empty")
	}
	if s.Routing.UserField == s.Routing.TopicField {
		return fieldErr("session.routing.topic_field", "must differ from session.routing.user_field")
	}
	if s.MaxMessageBytes <= 0 {
		return fieldErr("session.max_message_bytes", "must be positive")
	}
	if s.MaxAttachmentBytes <= 0 {
		return fieldErr("session.max_attachment_bytes", "must be positive")
	}
	for i, t := range s.AllowedAttachmentTypes {
		if main, sub, ok := strings.Cut(t, "/"); !ok || main == "" || sub == "" {
			return fieldErr("session.allowed_attachment_types", "entry %d (%q) must be a MIME type like image/png", i+1, t)
		}
	}
	return nil
}

func (c *Config) validateAttachments() error {
	a := c.Attachments
	if strings.TrimSpace(a.Dir) == "" {
		return fieldErr("attachments.dir", "must not be empty")
	}
	if err := httpURL(a.PublicURL); err != nil {
		return fieldErr("attachments.public_url", "%s", err)
	}
	if a.MaxDownloadBytes <= 0 {
		return fieldErr("attachments.max_download_bytes", "must be positive")
	}
	if a.Retention < 0 || (a.Retention > 0 && a.Retention < time.Hour) {
		return fieldErr("attachments.retention", "must be 0 (keep forever) or at least 1h, got %s", a.Retention)
	}
	if a.LinkTTL < time.Minute {
		return fieldErr("attachments.link_ttl", "must be at least 1m, got %s", a.LinkTTL)
	}
	return nil
}

func (c *Config) validateDelivery() error {
	d := c.Delivery
	switch d.Mode {
	case DeliveryConsole:
	case DeliveryWebhook:
		if d.WebhookURL == "" {
			return fieldErr("delivery.webhook_url", "must be set when delivery.mode is webhook")
		}
		if err := httpURL(d.WebhookURL); err != nil {
			return fieldErr("delivery.webhook_url", "%s", err)
		}
		if err := secureURL(d.WebhookURL); err != nil {
			return fieldErr("delivery.webhook_url", "%s", err)
		}
		if d.WebhookSecret == "" {
			return fieldErr("delivery.webhook_secret", "must be set when delivery.mode is webhook")
		}
	default:
		return fieldErr("delivery.mode", "must be webhook or console, got %q", d.Mode)
	}
	if d.Timeout <= 0 {
		return fieldErr("delivery.timeout", "must be a positive duration")
	}
	return nil
}

func (c *Config) validateWorker() error {
	w := c.Worker
	if w.ListenerSlots <= 0 {
		return fieldErr("worker.listener_slots", "must be positive (one slot per open session)")
	}
	if w.ActivitySlots <= 0 {
		return fieldErr("worker.activity_slots", "must be positive")
	}
	if w.MetricsListen != "" {
		if err := hostPort(w.MetricsListen); err != nil {
			return fieldErr("worker.metrics_listen", "%s", err)
		}
	}
	if w.PProf && w.MetricsListen == "" {
		return fieldErr("worker.pprof", "needs worker.metrics_listen (the profiles are served there)")
	}
	if w.WorkflowCacheSize < 0 {
		return fieldErr("worker.workflow_cache_size", "must not be negative (0 = the SDK default, %d), got %d", DefaultWorkflowCacheSize, w.WorkflowCacheSize)
	}
	return nil
}

func (c *Config) validateGateway() error {
	g := c.Gateway
	if err := hostPort(g.Listen); err != nil {
		return fieldErr("gateway.listen", "%s", err)
	}
	if g.MaxBodyBytes <= 0 {
		return fieldErr("gateway.max_body_bytes", "must be positive")
	}
	return nil
}

func (c *Config) validateCodec() error {
	k := c.Codec
	ids := make([]string, 0, len(k.Keys))
	for id := range k.Keys {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	// Every key is checked by the codec itself, so what passes here is exactly
	// what the binaries can build a keyring from — even when the codec is
	// off, so a bad key never waits for the day it is switched on.
	for _, id := range ids {
		if _, err := codec.ParseKeyring(id, map[string]string{id: k.Keys[id]}); err != nil {
			return codecFieldErr(err)
		}
	}
	for i, origin := range k.CORSOrigins {
		if err := corsOrigin(origin); err != nil {
			return fieldErr("codec.cors_origins", "entry %d (%q) %s", i+1, origin, err)
		}
	}
	if k.OperatorToken != "" && strings.TrimSpace(k.OperatorToken) != k.OperatorToken {
		return fieldErr("codec.operator_token", "must not start or end with white space")
	}
	if !k.Enabled {
		return nil
	}
	if len(k.Keys) == 0 {
		return fieldErr("codec.keys", "must hold at least one key when codec.enabled is true")
	}
	if k.ActiveKeyID == "" {
		return fieldErr("codec.active_key_id", "must be set when codec.enabled is true")
	}
	if _, ok := k.Keys[k.ActiveKeyID]; !ok {
		return fieldErr("codec.active_key_id", "%q is not one of codec.keys", k.ActiveKeyID)
	}
	if _, err := codec.ParseKeyring(k.ActiveKeyID, k.Keys); err != nil {
		return codecFieldErr(err)
	}
	return nil
}

// codecFieldErr turns an error of codec.ParseKeyring, which starts with the
// key it concerns ("codec.keys[\"k1\"]: ..." or "codec.active_key_id: ..."),
// into a *FieldError. codec errors never contain key material.
func codecFieldErr(err error) *FieldError {
	msg := oneLine(err.Error())
	where, reason, ok := strings.Cut(msg, ": ")
	if !ok {
		return fieldErr("codec.keys", "%s", msg)
	}
	if id, isKey := strings.CutPrefix(where, "codec.keys["); isKey {
		return fieldErr("codec.keys", "entry %s: %s", strings.TrimSuffix(id, "]"), reason)
	}
	if where == "codec.active_key_id" || where == "codec.keys" {
		return fieldErr(where, "%s", reason)
	}
	return fieldErr("codec.keys", "%s", msg)
}

// corsOrigin checks one codec.cors_origins entry: "*" or an origin
// (scheme://host[:port], no path) as browsers send it.
func corsOrigin(origin string) error {
	if origin == "*" {
		return nil
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return fmt.Errorf("must be * or an origin like https://temporal-ui.example.com")
	}
	if u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("must be an origin without path, query or user info (scheme://host[:port])")
	}
	return nil
}

func (c *Config) validateLog() error {
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		return fieldErr("log.level", "must be debug, info, warn or error, got %q", c.Log.Level)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		return fieldErr("log.format", "must be text or json, got %q", c.Log.Format)
	}
	return nil
}

func hostPort(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" {
		return fmt.Errorf("must be host:port, got %q", addr)
	}
	_ = host // empty host means all interfaces, which is allowed
	return nil
}

// MinSecretLen is the shortest shared secret accepted (delivery.webhook_secret,
// gateway.bearer_token, attachments.link_secret, codec.operator_token): 32
// characters, e.g. `openssl rand -hex 32` gives 64.
const MinSecretLen = 32

// validateSecrets refuses short shared secrets, and an operator token equal
// to the assistant's bearer token (the assistant could then decrypt every
// session's history through the codec endpoint). Secrets never appear in the
// error.
func (c *Config) validateSecrets() error {
	for _, s := range []struct{ key, value string }{
		{"delivery.webhook_secret", c.Delivery.WebhookSecret},
		{"gateway.bearer_token", c.Gateway.BearerToken},
		{"attachments.link_secret", c.Attachments.LinkSecret},
		{"codec.operator_token", c.Codec.OperatorToken},
	} {
		if s.value != "" && len(s.value) < MinSecretLen {
			return fieldErr(s.key, "must be at least %d characters, got %d (generate one: openssl rand -hex 32)", MinSecretLen, len(s.value))
		}
	}
	if c.Codec.OperatorToken != "" && c.Codec.OperatorToken == c.Gateway.BearerToken {
		return fieldErr("codec.operator_token", "must differ from gateway.bearer_token: the assistant's token must not decrypt history")
	}
	return nil
}

// secureURL refuses a plain-http URL to anything but a loopback host: what
// is sent there (the user's chat) would cross the network unencrypted.
func secureURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("must be an absolute http or https URL")
	}
	if !strings.EqualFold(u.Scheme, "http") {
		return nil
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); (ip != nil && ip.IsLoopback()) || strings.EqualFold(host, "localhost") {
		return nil
	}
	return fmt.Errorf("must be https unless the host is loopback (localhost, 127.0.0.1, ::1)")
}

// httpURL checks an absolute http(s) URL. The URL itself is not echoed: it may
// carry credentials.
func httpURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return fmt.Errorf("must be an absolute http or https URL")
	}
	return nil
}
