package config

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/viper"
)

// EnvPrefix prefixes the environment variable of every key: dots become
// underscores and letters are upper-cased, so salesforce.org_id is read from
// LIVEAGENT_SALESFORCE_ORG_ID.
const EnvPrefix = "LIVEAGENT_"

// FieldError is a configuration error about one key. Its message is one line:
// `config: <key>: <reason>`. It never contains a secret value.
type FieldError struct {
	Key    string
	Reason string
}

func (e *FieldError) Error() string { return "config: " + e.Key + ": " + e.Reason }

func fieldErr(key, format string, args ...any) *FieldError {
	return &FieldError{Key: key, Reason: fmt.Sprintf(format, args...)}
}

// field binds one documented key to the Config field that holds it.
type field struct {
	key string
	ptr any // *string, *bool, *int, *int64 (bytes), *time.Duration, *[]string, *map[string]string, *[]Schedule, *Locales
	// altEnv are environment variables honoured after LIVEAGENT_<KEY>.
	altEnv []string
}

// fields lists every key of c. It is the single table behind defaults, env
// binding, decoding and unknown-key detection.
func (c *Config) fields() []field {
	return []field{
		{key: "temporal.address", ptr: &c.Temporal.Address, altEnv: []string{"TEMPORAL_ADDRESS"}},
		{key: "temporal.namespace", ptr: &c.Temporal.Namespace, altEnv: []string{"TEMPORAL_NAMESPACE"}},
		{key: "temporal.api_key", ptr: &c.Temporal.APIKey, altEnv: []string{"TEMPORAL_API_KEY"}},
		{key: "temporal.tls.enabled", ptr: &c.Temporal.TLS.Enabled},
		{key: "temporal.tls.cert_file", ptr: &c.Temporal.TLS.CertFile},
		{key: "temporal.tls.key_file", ptr: &c.Temporal.TLS.KeyFile},
		{key: "temporal.tls.ca_file", ptr: &c.Temporal.TLS.CAFile},
		{key: "temporal.tls.server_name", ptr: &c.Temporal.TLS.ServerName},

		{key: "salesforce.scrt_url", ptr: &c.Salesforce.SCRTURL},
		{key: "salesforce.org_id", ptr: &c.Salesforce.OrgID},
		{key: "salesforce.deployment", ptr: &c.Salesforce.Deployment},
		{key: "salesforce.capabilities_version", ptr: &c.Salesforce.CapabilitiesVersion},
		{key: "salesforce.platform", ptr: &c.Salesforce.Platform},
		{key: "salesforce.auth_mode", ptr: &c.Salesforce.AuthMode},
		{key: "salesforce.private_key_file", ptr: &c.Salesforce.PrivateKeyFile},
		{key: "salesforce.key_id", ptr: &c.Salesforce.KeyID},
		{key: "salesforce.issuer", ptr: &c.Salesforce.Issuer},
		{key: "salesforce.signing_algorithm", ptr: &c.Salesforce.SigningAlgorithm},
		{key: "salesforce.identity_token_ttl", ptr: &c.Salesforce.IdentityTokenTTL},
		{key: "salesforce.allow_any_host", ptr: &c.Salesforce.AllowAnyHost},
		{key: "salesforce.attachment_hosts", ptr: &c.Salesforce.AttachmentHosts},
		{key: "salesforce.token_requests_per_minute", ptr: &c.Salesforce.TokenRequestsPerMinute},
		{key: "salesforce.token_store_dir", ptr: &c.Salesforce.TokenStoreDir},
		{key: "salesforce.conversation_history.enabled", ptr: &c.Salesforce.ConversationHistory.Enabled},
		{key: "salesforce.conversation_history.channel_address_identifier", ptr: &c.Salesforce.ConversationHistory.ChannelAddressIdentifier},
		{key: "salesforce.conversation_history.connected_app", ptr: &c.Salesforce.ConversationHistory.ConnectedApp},
		{key: "salesforce.conversation_history.login_url", ptr: &c.Salesforce.ConversationHistory.LoginURL},
		{key: "salesforce.conversation_history.client_id", ptr: &c.Salesforce.ConversationHistory.ClientID},
		{key: "salesforce.conversation_history.username", ptr: &c.Salesforce.ConversationHistory.Username},
		{key: "salesforce.conversation_history.private_key_file", ptr: &c.Salesforce.ConversationHistory.PrivateKeyFile},

		{key: "session.topics", ptr: &c.Session.Topics},
		{key: "session.accept_timeout", ptr: &c.Session.AcceptTimeout},
		{key: "session.listener_heartbeat_timeout", ptr: &c.Session.ListenerHeartbeatTimeout},
		{key: "session.listener_shards", ptr: &c.Session.ListenerShards},
		{key: "session.timeout_message", ptr: &c.Session.TimeoutMessage},
		{key: "session.greeting", ptr: &c.Session.Greeting},
		{key: "session.agent_ended_message", ptr: &c.Session.AgentEndedMessage},
		{key: "session.default_locale", ptr: &c.Session.DefaultLocale},
		{key: "session.routing.user_field", ptr: &c.Session.Routing.UserField},
		{key: "session.routing.topic_field", ptr: &c.Session.Routing.TopicField},
		{key: "session.max_message_bytes", ptr: &c.Session.MaxMessageBytes},
		{key: "session.max_attachment_bytes", ptr: &c.Session.MaxAttachmentBytes},
		{key: "session.allowed_attachment_types", ptr: &c.Session.AllowedAttachmentTypes},
		{key: "session.handoff_excluded_topics", ptr: &c.Session.HandoffExcludedTopics},
		{key: "session.routing_result_timeout", ptr: &c.Session.RoutingResultTimeout},
		{key: "session.idle_timeout", ptr: &c.Session.IdleTimeout},
		{key: "session.transfer_timeout", ptr: &c.Session.TransferTimeout},
		{key: "session.survey_window", ptr: &c.Session.SurveyWindow},
		{key: "session.typing_quiet_time", ptr: &c.Session.TypingQuietTime},
		{key: "session.agent_typing_expiry", ptr: &c.Session.AgentTypingExpiry},
		{key: "session.message_rate", ptr: &c.Session.MessageRate},
		{key: "session.message_rate_window", ptr: &c.Session.MessageRateWindow},
		{key: "session.routing_failed_message", ptr: &c.Session.RoutingFailedMessage},
		{key: "session.no_routing_result_message", ptr: &c.Session.NoRoutingResultMessage},
		{key: "session.refused_message", ptr: &c.Session.RefusedMessage},
		{key: "session.failed_message", ptr: &c.Session.FailedMessage},
		{key: "session.transfer_failed_message", ptr: &c.Session.TransferFailedMessage},
		{key: "session.inactive_message", ptr: &c.Session.InactiveMessage},
		{key: "session.inactive_ended_message", ptr: &c.Session.InactiveEndedMessage},
		{key: "session.idle_message", ptr: &c.Session.IdleMessage},
		{key: "session.queue_position_message", ptr: &c.Session.QueuePositionMessage},
		{key: "session.wait_message", ptr: &c.Session.WaitMessage},
		{key: "session.wait_one_minute_message", ptr: &c.Session.WaitOneMinuteMessage},
		{key: "session.wait_under_a_minute_message", ptr: &c.Session.WaitUnderAMinuteMessage},
		{key: "session.transfer_message", ptr: &c.Session.TransferMessage},
		{key: "session.agent_joined_message", ptr: &c.Session.AgentJoinedMessage},
		{key: "session.unnamed_agent", ptr: &c.Session.UnnamedAgent},
		{key: "session.send_failed_message", ptr: &c.Session.SendFailedMessage},
		{key: "session.file_too_large_message", ptr: &c.Session.FileTooLargeMessage},
		{key: "session.file_type_refused_message", ptr: &c.Session.FileTypeRefusedMessage},
		{key: "session.file_upload_failed_message", ptr: &c.Session.FileUploadFailedMessage},
		{key: "session.attachment_failed_message", ptr: &c.Session.AttachmentFailedMessage},

		{key: "attachments.dir", ptr: &c.Attachments.Dir},
		{key: "attachments.public_url", ptr: &c.Attachments.PublicURL},
		{key: "attachments.max_download_bytes", ptr: &c.Attachments.MaxDownloadBytes},
		{key: "attachments.retention", ptr: &c.Attachments.Retention},
		{key: "attachments.link_secret", ptr: &c.Attachments.LinkSecret},
		{key: "attachments.link_ttl", ptr: &c.Attachments.LinkTTL},

		{key: "delivery.mode", ptr: &c.Delivery.Mode},
		{key: "delivery.webhook_url", ptr: &c.Delivery.WebhookURL},
		{key: "delivery.webhook_secret", ptr: &c.Delivery.WebhookSecret},
		{key: "delivery.timeout", ptr: &c.Delivery.Timeout},

		{key: "worker.listener_slots", ptr: &c.Worker.ListenerSlots},
		{key: "worker.activity_slots", ptr: &c.Worker.ActivitySlots},
		{key: "worker.metrics_listen", ptr: &c.Worker.MetricsListen},
		{key: "worker.pprof", ptr: &c.Worker.PProf},
		{key: "worker.workflow_cache_size", ptr: &c.Worker.WorkflowCacheSize},

		{key: "gateway.listen", ptr: &c.Gateway.Listen},
		{key: "gateway.bearer_token", ptr: &c.Gateway.BearerToken},
		{key: "gateway.max_body_bytes", ptr: &c.Gateway.MaxBodyBytes},

		{key: "codec.enabled", ptr: &c.Codec.Enabled},
		{key: "codec.active_key_id", ptr: &c.Codec.ActiveKeyID},
		{key: "codec.keys", ptr: &c.Codec.Keys},
		{key: "codec.cors_origins", ptr: &c.Codec.CORSOrigins},
		{key: "codec.operator_token", ptr: &c.Codec.OperatorToken},

		{key: "log.level", ptr: &c.Log.Level},
		{key: "log.format", ptr: &c.Log.Format},

		{key: "availability.source", ptr: &c.Availability.Source},
		{key: "availability.offline_message", ptr: &c.Availability.OfflineMessage},
		{key: "availability.salesforce_cache_ttl", ptr: &c.Availability.CacheTTL},
		{key: "availability.schedules", ptr: &c.Availability.Schedules},

		{key: "locales", ptr: &c.Locales},
	}
}

// Keys returns every configuration key, sorted.
func Keys() []string {
	var keys []string
	for _, f := range Default().fields() {
		keys = append(keys, f.key)
	}
	sort.Strings(keys)
	return keys
}

// EnvName returns the environment variable that sets key.
func EnvName(key string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// Load reads the YAML file at path (skipped when path is ""), applies the
// environment over it and the defaults under it, and validates the result.
// Every error is one line naming the offending key (a *FieldError) or the file.
func Load(path string) (*Config, error) {
	cfg, err := load(path)
	if err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}

func load(path string) (*Config, error) {
	v := viper.New()
	// An empty variable is a value, not an absence: LIVEAGENT_SESSION_GREETING=""
	// means no greeting. Only text keys are bound to empty variables (below).
	v.AllowEmptyEnv(true)
	cfg := Default()
	fields := cfg.fields()
	known := make(map[string]bool, len(fields))
	for _, f := range fields {
		known[f.key] = true
	}
	// The file is read before the defaults are set, so v.AllKeys() lists
	// only what the file holds.
	nullInFile := map[string]bool{}
	if path != "" {
		v.SetConfigFile(path)
		v.SetConfigType("yaml")
		if err := v.ReadInConfig(); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("config: read %s: file does not exist", path)
			}
			return nil, fmt.Errorf("config: read %s: %s", path, oneLine(err.Error()))
		}
		for _, k := range v.AllKeys() {
			if known[k] {
				if v.Get(k) == nil { // `key:` with no value (YAML null)
					nullInFile[k] = true
				}
				continue
			}
			// Under a key: an entry of codec.keys or locales (maps, checked
			// by decode and Validate), or a mapping given where decode will
			// refuse it with the key's own error. A section left empty
			// (`codec:` with every key commented out) is null, not unknown.
			if under(k, known) || (v.Get(k) == nil && section(k, known)) {
				continue
			}
			return nil, fieldErr(k, "unknown key (in %s)", path)
		}
	}
	for _, f := range fields {
		_, text := f.ptr.(*string)
		def := defaultValue(f.ptr)
		if text && nullInFile[f.key] {
			// viper reads a null as absent; for a text key it is "", like
			// `greeting: ""` (no greeting), not the default.
			def = ""
		}
		v.SetDefault(f.key, def)
		names := envNames(f, text)
		if len(names) == 0 {
			continue
		}
		if err := v.BindEnv(append([]string{f.key}, names...)...); err != nil {
			return nil, fmt.Errorf("config: bind %s: %w", f.key, err)
		}
	}
	for _, f := range fields {
		if err := decode(f, v.Get(f.key)); err != nil {
			return nil, err
		}
	}
	// viper lower-cases map keys, so key ids are case-insensitive.
	cfg.Codec.ActiveKeyID = strings.ToLower(cfg.Codec.ActiveKeyID)
	return cfg, nil
}

// under reports whether a dotted key lies under one of known.
func under(key string, known map[string]bool) bool {
	for i := strings.LastIndexByte(key, '.'); i > 0; i = strings.LastIndexByte(key[:i], '.') {
		if known[key[:i]] {
			return true
		}
	}
	return false
}

// section reports whether some known key lies under key.
func section(key string, known map[string]bool) bool {
	for k := range known {
		if strings.HasPrefix(k, key+".") {
			return true
		}
	}
	return false
}

// envNames are the environment variables that set f, in precedence order.
// A text key takes an empty LIVEAGENT_<KEY> as "" (a greeting of "" is none).
// Any other key (bool, number, duration, list, map) has no use for an empty
// value and ignores an empty variable as if unset, so
// LIVEAGENT_SESSION_IDLE_TIMEOUT= leaves the file's value or the default in
// force. So do the shared TEMPORAL_* variables (empty is unset for Temporal's
// own tools too).
func envNames(f field, text bool) []string {
	var names []string
	if primary := EnvName(f.key); text || os.Getenv(primary) != "" {
		names = append(names, primary)
	}
	for _, n := range f.altEnv {
		if os.Getenv(n) != "" {
			names = append(names, n)
		}
	}
	return names
}

func defaultValue(ptr any) any {
	switch p := ptr.(type) {
	case *string:
		return *p
	case *bool:
		return *p
	case *int:
		return *p
	case *int64:
		return *p
	case *time.Duration:
		return *p
	case *[]string:
		return cloneStrings(*p)
	case *map[string]string:
		m := map[string]any{}
		for k, val := range *p {
			m[k] = val
		}
		return m
	case *[]Schedule:
		return nil // no default schedules
	case *Locales:
		return nil // no default locales: session.* texts for every locale
	}
	panic(fmt.Sprintf("config: unsupported field type %T", ptr))
}

// decode converts one raw viper value (from YAML, env or the default) into the
// field's Go type.
func decode(f field, raw any) error {
	switch p := f.ptr.(type) {
	case *string:
		s, err := toString(raw)
		if err != nil {
			return fieldErr(f.key, "must be a string")
		}
		*p = s
	case *bool:
		switch b := raw.(type) {
		case bool:
			*p = b
		case string:
			parsed, err := strconv.ParseBool(strings.TrimSpace(b))
			if err != nil {
				return fieldErr(f.key, "must be true or false, got %q", b)
			}
			*p = parsed
		default:
			return fieldErr(f.key, "must be true or false")
		}
	case *int:
		n, err := toInt(raw, false)
		if err != nil || n > math.MaxInt32 || n < math.MinInt32 {
			return fieldErr(f.key, "must be an integer")
		}
		*p = int(n)
	case *int64:
		n, err := toInt(raw, true)
		if err != nil {
			return fieldErr(f.key, "must be a byte count (e.g. 5242880 or 5MiB)")
		}
		*p = n
	case *time.Duration:
		switch d := raw.(type) {
		case time.Duration:
			*p = d
		case string:
			parsed, err := time.ParseDuration(strings.TrimSpace(d))
			if err != nil {
				return fieldErr(f.key, "must be a duration like 30s or 5m, got %q", d)
			}
			*p = parsed
		default:
			return fieldErr(f.key, "must be a duration like 30s or 5m")
		}
	case *[]string:
		list, err := toStrings(raw)
		if err != nil {
			return fieldErr(f.key, "must be a list of strings")
		}
		*p = list
	case *map[string]string:
		m, err := toStringMap(raw)
		if err != nil {
			return fieldErr(f.key, "%s", err.Error())
		}
		*p = m
	case *[]Schedule:
		list, err := decodeSchedules(raw)
		if err != nil {
			return fieldErr(f.key, "%s", err.Error())
		}
		*p = list
	case *Locales:
		l, err := decodeLocales(raw)
		if err != nil {
			return fieldErr(f.key, "%s", err.Error())
		}
		*p = l
	default:
		return fieldErr(f.key, "unsupported field type %T", f.ptr)
	}
	return nil
}

func toString(raw any) (string, error) {
	switch s := raw.(type) {
	case nil:
		return "", nil
	case string:
		return s, nil
	case int, int64, float64, bool:
		return fmt.Sprint(s), nil
	}
	return "", fmt.Errorf("not a string: %T", raw)
}

var byteUnits = []struct {
	suffix string
	mult   int64
}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}}

func toInt(raw any, bytes bool) (int64, error) {
	switch n := raw.(type) {
	case int:
		return int64(n), nil
	case int64:
		return n, nil
	case float64:
		if n != math.Trunc(n) {
			return 0, errors.New("not an integer")
		}
		return int64(n), nil
	case string:
		s := strings.TrimSpace(n)
		mult := int64(1)
		if bytes {
			for _, u := range byteUnits {
				if strings.HasSuffix(s, u.suffix) {
					s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
					break
				}
			}
		}
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, err
		}
		if v > math.MaxInt64/mult || v < math.MinInt64/mult {
			return 0, errors.New("out of range")
		}
		return v * mult, nil
	}
	return 0, fmt.Errorf("not an integer: %T", raw)
}

// toStrings accepts a YAML list or a comma-separated string (from env).
func toStrings(raw any) ([]string, error) {
	switch l := raw.(type) {
	case nil:
		return nil, nil
	case []string:
		return cloneStrings(l), nil
	case []any:
		out := make([]string, 0, len(l))
		for _, item := range l {
			s, err := toString(item)
			if err != nil {
				return nil, err
			}
			out = append(out, strings.TrimSpace(s))
		}
		return out, nil
	case string:
		if strings.TrimSpace(l) == "" {
			return nil, nil
		}
		parts := strings.Split(l, ",")
		out := make([]string, 0, len(parts))
		for _, p := range parts {
			out = append(out, strings.TrimSpace(p))
		}
		return out, nil
	}
	return nil, fmt.Errorf("not a list: %T", raw)
}

// toStringMap accepts a YAML mapping or "id=value,id2=value2" (from env).
// Keys are lower-cased (viper does the same to YAML keys). Values never
// appear in errors: they may be secrets.
func toStringMap(raw any) (map[string]string, error) {
	out := map[string]string{}
	switch m := raw.(type) {
	case nil:
		return out, nil
	case map[string]any:
		for k, val := range m {
			s, err := toString(val)
			if err != nil {
				return nil, fmt.Errorf("entry %q must be a string", k)
			}
			out[strings.ToLower(k)] = s
		}
	case map[string]string:
		for k, val := range m {
			out[strings.ToLower(k)] = val
		}
	case string:
		if strings.TrimSpace(m) == "" {
			return out, nil
		}
		for i, pair := range strings.Split(m, ",") {
			k, val, ok := strings.Cut(strings.TrimSpace(pair), "=")
			if !ok || strings.TrimSpace(k) == "" {
				return nil, fmt.Errorf("entry %d must be id=value", i+1)
			}
			out[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(val)
		}
	default:
		return nil, errors.New("must be a mapping of id to value")
	}
	return out, nil
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// readable reports whether path names an existing regular file.
func readable(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return errors.New("file does not exist")
		}
		return errors.New("cannot stat file")
	}
	if st.IsDir() {
		return errors.New("is a directory, not a file")
	}
	return nil
}
