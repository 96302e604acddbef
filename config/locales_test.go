package config

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/liveagent-bridge/liveagent/locales"
)

const localesYAML = `
salesforce:
  scrt_url: https://acme.my.salesforce-scrt.com
  org_id: 00D000000000001
  deployment: Live_Agent_Bridge
  private_key_file: %s
  key_id: bridge-1
  issuer: liveagent-bridge
session:
  topics: [HR]
  greeting: "Welcome!"
  idle_message: "Bye for now."
availability:
  offline_message: "We are closed."
locales:
  fr:
    greeting: "Bienvenue !"
    timeout_message: "Personne n'est disponible."
    offline_message: "Nous sommes fermés."
    queue_position_message: "Vous êtes numéro {position}."
  fr-CA:
    greeting: "Bienvenue, chez nous !"
`

// Locales load from YAML (tags in either form, any case), and a session's
// texts fall back fr_CA -> fr -> the session.* texts.
func TestLoadLocalesFallsBackAlongTheChain(t *testing.T) {
	cfg, err := Load(writeFile(t, "l.yaml", fmt.Appendf(nil, localesYAML, pkcs1KeyFile(t))))
	require.NoError(t, err)
	table := cfg.LocaleTable()
	require.Equal(t, []string{"fr", "fr_CA"}, sortedKeys(table))
	base := cfg.SessionSettings()

	ca := table.Resolve(base, "fr_CA")
	assert.Equal(t, "Bienvenue, chez nous !", ca.Greeting)
	assert.Equal(t, "Personne n'est disponible.", ca.TimeoutMessage, "fr_CA has none: fr's")
	assert.Equal(t, "Nous sommes fermés.", ca.OfflineMessage)
	assert.Equal(t, "Vous êtes numéro {position}.", ca.QueuePositionMessage)
	assert.Equal(t, "Bye for now.", ca.IdleMessage, "no locale has one: session.idle_message")
	assert.Equal(t, "The agent has ended the chat.", ca.AgentEndedMessage, "the English default")

	de := table.Resolve(base, "de_DE")
	assert.Equal(t, "Welcome!", de.Greeting)
	assert.Equal(t, "We are closed.", de.OfflineMessage)
}

func TestLocalesFromTheEnvironment(t *testing.T) {
	t.Setenv("LIVEAGENT_LOCALES", `{"fr":{"greeting":"Bonjour"},"fr_CA":{"idle_message":"Salut"}}`)
	cfg, err := Load(writeFile(t, "l.yaml", fmt.Appendf(nil, localesYAML, pkcs1KeyFile(t))))
	require.NoError(t, err)
	ca := cfg.LocaleTable().Resolve(cfg.SessionSettings(), "fr_CA")
	assert.Equal(t, "Salut", ca.IdleMessage)
	assert.Equal(t, "Bonjour", ca.Greeting, "the environment replaces the file's locales")
	assert.NotEqual(t, "Personne n'est disponible.", ca.TimeoutMessage, "the file's fr texts are replaced")
}

// A bad locale section fails at start with one line naming the field.
func TestLocalesValidation(t *testing.T) {
	for _, tc := range []struct {
		name    string
		locales Locales
		key     string
		message string
	}{
		{"unknown text key", Locales{"fr": {"greetin": "x"}}, "locales.fr.greetin", "unknown text key (one of: greeting, "},
		{"malformed tag", Locales{"fr_ca!": {"greeting": "x"}}, "locales.fr_ca!", "not a well-formed"},
		{"mixed separators", Locales{"fr_ca-x": {"greeting": "x"}}, "locales.fr_ca-x", "mixes - and _"},
		{"no language", Locales{"c": {"greeting": "x"}}, "locales.c", "not a well-formed"},
		{"same locale twice", Locales{"fr-ca": {"greeting": "x"}, "fr_ca": {"greeting": "y"}}, "locales.fr_ca", "same locale as locales.fr-ca (fr_CA)"},
		{"empty text", Locales{"fr": {"timeout_message": " "}}, "locales.fr.timeout_message", "must not be empty (leave it out"},
		{"too long", Locales{"fr": {"idle_message": strings.Repeat("x", 4001)}}, "locales.fr.idle_message", "at most 4000 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := validConfig(t)
			c.Locales = tc.locales
			err := c.Validate()
			require.Error(t, err)
			var fe *FieldError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, tc.key, fe.Key)
			assert.Contains(t, fe.Reason, tc.message)
			assert.NotContains(t, err.Error(), "\n")
		})
	}
	c := validConfig(t)
	c.Locales = Locales{"fr": {"greeting": ""}}
	require.NoError(t, c.Validate(), "an empty greeting means none")
	assert.Equal(t, "", c.LocaleTable().Resolve(c.SessionSettings(), "fr").Greeting)
}

func TestLocalesDecodeErrors(t *testing.T) {
	for _, tc := range []struct{ env, message string }{
		{`not json`, "JSON object"},
		{`["fr"]`, "mapping of locale to texts"},
		{`{"fr":"Bonjour"}`, "fr: must be a mapping of text key to text"},
		{`{"fr":{"greeting":3}}`, "fr.greeting: must be a string"},
	} {
		t.Setenv("LIVEAGENT_LOCALES", tc.env)
		_, err := load("")
		require.Error(t, err, tc.env)
		assert.True(t, strings.HasPrefix(err.Error(), "config: locales: "), err.Error())
		assert.Contains(t, err.Error(), tc.message, tc.env)
	}
}

func TestDefaultLocaleIsNormalisedAndChecked(t *testing.T) {
	c := validConfig(t)
	c.Session.DefaultLocale = "fr-ca"
	require.NoError(t, c.Validate())
	assert.Equal(t, "fr_CA", c.SessionSettings().DefaultLocale)
	c.Session.DefaultLocale = "fr CA"
	var fe *FieldError
	require.ErrorAs(t, c.Validate(), &fe)
	assert.Equal(t, "session.default_locale", fe.Key)
	c.Session.DefaultLocale = "C"
	require.ErrorAs(t, c.Validate(), &fe)
	assert.Equal(t, "session.default_locale", fe.Key)
}

func TestLocaleKeysAreTheSettingsTexts(t *testing.T) {
	// Every session.* text key has its locale key, and the offline message.
	for _, k := range Keys() {
		leaf, ok := strings.CutPrefix(k, "session.")
		if ok && (strings.HasSuffix(leaf, "_message") || leaf == "greeting" || leaf == "unnamed_agent") {
			assert.True(t, locales.IsKey(leaf), "session.%s has no locale key", leaf)
		}
	}
	assert.True(t, locales.IsKey("offline_message"))
}
