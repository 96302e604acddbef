package locales_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/liveagent-bridge/liveagent/locales"
	"github.com/liveagent-bridge/liveagent/workflows"
)

func TestNormalizeAcceptsBCP47AndPOSIX(t *testing.T) {
	for in, want := range map[string]string{
		"":                     "",
		"C":                    "",
		"POSIX":                "",
		"fr":                   "fr",
		"FR":                   "fr",
		"fr-CA":                "fr_CA",
		"fr-ca":                "fr_CA",
		"fr_CA":                "fr_CA",
		"fr_ca":                "fr_CA",
		"fr_CA.UTF-8":          "fr_CA",
		"de_DE@euro":           "de_DE",
		"ca_ES.UTF-8@valencia": "ca_ES",
		"zh-Hant-TW":           "zh_Hant_TW",
		"zh-hant-tw":           "zh_Hant_TW",
		"zh_Hant_TW":           "zh_Hant_TW",
		"es-419":               "es_419",
		"sl-rozaj-biske":       "sl_rozaj_biske",
		"de-CH-1996":           "de_CH_1996",
		"en-US-u-ca-gregory":   "en_US",
		"en-x-private":         "en",
		"zh-yue-HK":            "zh_yue_HK",
		"haw":                  "haw",
	} {
		got, err := locales.Normalize(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
}

func TestNormalizeRejectsMalformedTags(t *testing.T) {
	for _, in := range []string{
		"f", "fr-", "-fr", "fr--CA", "fr_CA-x", "fr CA", "fr-CA!", "français",
		"1fr", "english", "fr-CA-u", "en-a-b", "x-private", "fr_CA.", "fr_CA@", "fr-CA-toolongvariant",
		"en-US-x", strings.Repeat("a", 65), "fr\n", "fr-C",
	} {
		_, err := locales.Normalize(in)
		assert.Error(t, err, "%q", in)
	}
}

func TestChainGoesFromSpecificToLanguage(t *testing.T) {
	assert.Equal(t, []string{"fr_CA", "fr"}, locales.Chain("fr_CA"))
	assert.Equal(t, []string{"zh_Hant_TW", "zh_Hant", "zh"}, locales.Chain("zh_Hant_TW"))
	assert.Equal(t, []string{"fr"}, locales.Chain("fr"))
	assert.Empty(t, locales.Chain(""))
}

func TestResolveFallsBackAlongTheChain(t *testing.T) {
	base := workflows.Settings{
		Topics:         []string{"HR"},
		Greeting:       "Welcome!",
		TimeoutMessage: "Nobody came.",
		IdleMessage:    "Idle.",
		OfflineMessage: "Offline.",
	}
	table := locales.Table{
		"fr":    {"greeting": "Bienvenue !", "timeout_message": "Personne n'est venu.", "offline_message": "Hors ligne."},
		"fr_CA": {"greeting": "Bienvenue, chez nous !"},
	}

	ca := table.Resolve(base, "fr_CA")
	assert.Equal(t, "Bienvenue, chez nous !", ca.Greeting, "fr_CA's own text")
	assert.Equal(t, "Personne n'est venu.", ca.TimeoutMessage, "fr_CA has none: fr's")
	assert.Equal(t, "Idle.", ca.IdleMessage, "neither has one: the base's")
	assert.Equal(t, "Hors ligne.", ca.OfflineMessage)
	assert.Equal(t, []string{"HR"}, ca.Topics)

	fr := table.Resolve(base, "fr")
	assert.Equal(t, "Bienvenue !", fr.Greeting)

	be := table.Resolve(base, "fr_BE")
	assert.Equal(t, "Bienvenue !", be.Greeting, "an unknown region falls back to its language")

	de := table.Resolve(base, "de_DE")
	assert.Equal(t, base, de, "an unknown locale gets the base texts")
	assert.Equal(t, base, table.Resolve(base, ""))

	ca.Topics[0] = "changed"
	assert.Equal(t, "HR", base.Topics[0], "Resolve never shares the base's slices")
}

func TestResolveReachesEveryKey(t *testing.T) {
	texts := locales.Texts{}
	for _, k := range locales.Keys() {
		require.True(t, locales.IsKey(k))
		texts[k] = "fr:" + k
	}
	got := locales.Table{"fr": texts}.Resolve(workflows.Settings{}, "fr")
	seen := map[string]bool{}
	for _, v := range []string{
		got.Greeting, got.TimeoutMessage, got.AgentEndedMessage, got.OfflineMessage, got.RoutingFailedMessage,
		got.NoRoutingResultMessage, got.RefusedMessage, got.FailedMessage, got.TransferFailedMessage,
		got.InactiveMessage, got.InactiveEndedMessage, got.IdleMessage, got.QueuePositionMessage, got.WaitMessage, got.WaitOneMinuteMessage,
		got.WaitUnderAMinuteMessage, got.TransferMessage, got.AgentJoinedMessage, got.UnnamedAgent,
		got.SendFailedMessage, got.FileTooLargeMessage, got.FileTypeRefusedMessage, got.AttachmentFailedMessage,
		got.FileUploadFailedMessage,
	} {
		require.True(t, strings.HasPrefix(v, "fr:"), "a settings text was not set: %q", v)
		seen[v] = true
	}
	assert.Len(t, seen, len(locales.Keys()), "each key sets its own field")
	assert.False(t, locales.IsKey("greetings"))
}
