package config

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// envOnly sets the environment of a minimal valid configuration.
func envOnly(t *testing.T) {
	t.Setenv("LIVEAGENT_SALESFORCE_SCRT_URL", "https://acme.my.salesforce-scrt.com")
	t.Setenv("LIVEAGENT_SALESFORCE_ORG_ID", "00D000000000001")
	t.Setenv("LIVEAGENT_SALESFORCE_DEPLOYMENT", "Live_Agent_Bridge")
	t.Setenv("LIVEAGENT_SALESFORCE_PRIVATE_KEY_FILE", pkcs1KeyFile(t))
	t.Setenv("LIVEAGENT_SALESFORCE_KEY_ID", "bridge-1")
	t.Setenv("LIVEAGENT_SALESFORCE_ISSUER", "liveagent-bridge")
	t.Setenv("LIVEAGENT_SESSION_TOPICS", "HR")
}

// An empty variable sets a text key to "": LIVEAGENT_SESSION_GREETING=""
// means no greeting (the documented meaning of greeting: ""), not the
// default greeting.
func TestEmptyEnvGreetingMeansNone(t *testing.T) {
	envOnly(t)
	t.Setenv("LIVEAGENT_SESSION_GREETING", "")
	cfg, err := Load("")
	require.NoError(t, err)
	assert.Equal(t, "", cfg.Session.Greeting)
	assert.Equal(t, "", cfg.SessionSettings().Greeting)

	// It beats the file too, like any variable.
	path := writeFile(t, "c.yaml", []byte("session:\n  greeting: Hello from the file\n"))
	cfg, err = Load(path)
	require.NoError(t, err)
	assert.Equal(t, "", cfg.Session.Greeting)
}

// `greeting:` with no value (YAML null) is "" like `greeting: ""`, not the
// default; a variable still beats it.
func TestNullTextInFileIsEmpty(t *testing.T) {
	envOnly(t)
	path := writeFile(t, "c.yaml", []byte("session:\n  greeting:\n  idle_message:\n"))
	cfg, err := Load(path)
	require.NoError(t, err)
	assert.Equal(t, "", cfg.Session.Greeting)
	assert.Equal(t, "", cfg.Session.IdleMessage)

	t.Setenv("LIVEAGENT_SESSION_GREETING", "Hello from the environment")
	cfg, err = Load(path)
	require.NoError(t, err)
	assert.Equal(t, "Hello from the environment", cfg.Session.Greeting)

	// A text that must not be empty says so, in one line naming the key.
	_, err = Load(writeFile(t, "c.yaml", []byte("session:\n  timeout_message:\n")))
	var fe *FieldError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "session.timeout_message", fe.Key)
	assert.Contains(t, fe.Reason, "must not be empty")

	// Under a locale too: an empty greeting is none; another text must
	// be left out instead.
	cfg, err = Load(writeFile(t, "c.yaml", []byte("locales:\n  fr:\n    greeting:\n")))
	require.NoError(t, err)
	assert.Equal(t, "", cfg.LocaleTable().Resolve(cfg.SessionSettings(), "fr").Greeting)
	_, err = Load(writeFile(t, "c.yaml", []byte("locales:\n  fr:\n    idle_message:\n")))
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "locales.fr.idle_message", fe.Key)
	assert.Contains(t, fe.Reason, "must not be empty")
}

// A section left empty (every key commented out) is not an unknown key, and
// a null duration, number or list keeps its default.
func TestNullSectionsAndNonTextKeys(t *testing.T) {
	envOnly(t)
	cfg, err := Load(writeFile(t, "c.yaml", []byte("codec:\nsession:\n  accept_timeout:\n  listener_shards:\n  allowed_attachment_types:\n")))
	require.NoError(t, err)
	assert.Equal(t, Default().Session.AcceptTimeout, cfg.Session.AcceptTimeout)
	assert.Equal(t, DefaultListenerShards, cfg.Session.ListenerShards)
	assert.Empty(t, cfg.Session.AllowedAttachmentTypes)
	assert.Equal(t, Default().Session.Greeting, cfg.Session.Greeting, "a greeting left out keeps the default")

	_, err = Load(writeFile(t, "c.yaml", []byte("sesion:\n")))
	var fe *FieldError
	require.ErrorAs(t, err, &fe, "an unknown empty section is still unknown")
	assert.Equal(t, "sesion", fe.Key)
}

// An empty variable for a key that is not text (bool, number, byte count,
// duration, list, map, schedules, locales) has no empty value to mean: it
// counts as unset, so the file's value, else the default, stays in force.
func TestEmptyEnvForOtherKeysIsUnset(t *testing.T) {
	envOnly(t)
	file := writeFile(t, "c.yaml", []byte(`
session:
  accept_timeout: 90s
  listener_shards: 3
  max_attachment_bytes: 1MiB
  allowed_attachment_types: [image/png]
salesforce:
  allow_any_host: true
  scrt_url: http://127.0.0.1:8090
`))
	for _, k := range []string{"session.accept_timeout", "session.listener_shards", "session.max_attachment_bytes",
		"session.allowed_attachment_types", "salesforce.allow_any_host", "session.idle_timeout", "codec.keys",
		"availability.schedules", "locales"} {
		t.Setenv(EnvName(k), "")
	}
	t.Setenv("LIVEAGENT_SALESFORCE_SCRT_URL", "http://127.0.0.1:8090")
	cfg, err := Load(file)
	require.NoError(t, err)
	assert.Equal(t, 90*time.Second, cfg.Session.AcceptTimeout, "the file's duration")
	assert.Equal(t, 3, cfg.Session.ListenerShards)
	assert.Equal(t, int64(1<<20), cfg.Session.MaxAttachmentBytes)
	assert.Equal(t, []string{"image/png"}, cfg.Session.AllowedAttachmentTypes)
	assert.True(t, cfg.Salesforce.AllowAnyHost)
	assert.Equal(t, time.Duration(0), cfg.Session.IdleTimeout, "the default")

	// Without a file: the defaults.
	t.Setenv("LIVEAGENT_SALESFORCE_SCRT_URL", "https://acme.my.salesforce-scrt.com")
	cfg, err = Load("")
	require.NoError(t, err)
	assert.Equal(t, Default().Session.AcceptTimeout, cfg.Session.AcceptTimeout)
	assert.Equal(t, DefaultListenerShards, cfg.Session.ListenerShards)
	assert.False(t, cfg.Salesforce.AllowAnyHost)
}

// An empty variable for a text key that must be set fails at start with one
// line naming the key, rather than silently taking the default.
func TestEmptyEnvForRequiredTextIsAnError(t *testing.T) {
	for _, tc := range []struct{ env, key string }{
		{"LIVEAGENT_SESSION_TIMEOUT_MESSAGE", "session.timeout_message"},
		{"LIVEAGENT_TEMPORAL_NAMESPACE", "temporal.namespace"},
		{"LIVEAGENT_TEMPORAL_ADDRESS", "temporal.address"},
		{"LIVEAGENT_LOG_LEVEL", "log.level"},
		{"LIVEAGENT_SALESFORCE_DEPLOYMENT", "salesforce.deployment"},
	} {
		t.Run(tc.env, func(t *testing.T) {
			envOnly(t)
			t.Setenv(tc.env, "")
			_, err := Load("")
			var fe *FieldError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, tc.key, fe.Key)
			assert.NotContains(t, err.Error(), "\n")
		})
	}
}

// The shared TEMPORAL_* variables keep the meaning Temporal's own tools give
// them: empty is unset, so the file (or the default) applies.
func TestEmptyTemporalEnvIsUnset(t *testing.T) {
	envOnly(t)
	t.Setenv("TEMPORAL_ADDRESS", "")
	t.Setenv("TEMPORAL_API_KEY", "")
	cfg, err := Load(writeFile(t, "c.yaml", []byte("temporal:\n  address: temporal.internal:7233\n  api_key: from-the-file\n")))
	require.NoError(t, err)
	assert.Equal(t, "temporal.internal:7233", cfg.Temporal.Address)
	assert.Equal(t, "from-the-file", cfg.Temporal.APIKey)
	cfg, err = Load("")
	require.NoError(t, err)
	assert.Equal(t, Default().Temporal.Address, cfg.Temporal.Address)
}

// Environ hands an empty text to a child process as an empty variable, and
// the child reads it back as "", not as the default.
func TestEnvironKeepsEmptyTexts(t *testing.T) {
	want := validConfig(t)
	want.Session.Greeting = ""
	want.Session.AgentEndedMessage = ""
	want.Locales = Locales{"fr": {"greeting": ""}}
	want.Codec.Keys = map[string]string{} // as Load reads an empty map
	require.NoError(t, want.Validate())
	var found bool
	for _, kv := range want.ChildEnviron() {
		name, value, _ := strings.Cut(kv, "=")
		if name == "LIVEAGENT_SESSION_GREETING" {
			found = true
			assert.Equal(t, "", value)
		}
		if strings.HasPrefix(name, EnvPrefix) || strings.HasPrefix(name, "TEMPORAL_") {
			t.Setenv(name, value)
		}
	}
	require.True(t, found, "ChildEnviron sets LIVEAGENT_SESSION_GREETING")
	got, err := Load("")
	require.NoError(t, err)
	assert.Equal(t, "", got.Session.Greeting)
	assert.Equal(t, "", got.SessionSettings().Greeting)
	assert.Equal(t, want, got)
}
