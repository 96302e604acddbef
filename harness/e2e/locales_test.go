package e2e

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/liveagent-bridge/liveagent/config"
	"github.com/liveagent-bridge/liveagent/gateway"
	"github.com/liveagent-bridge/liveagent/miaw/emulator"
	"github.com/liveagent-bridge/liveagent/starter"
	"github.com/liveagent-bridge/liveagent/workflows"
)

// localeGateway serves the gateway over a starter with settings and the
// locales of cfg.
func localeGateway(t *testing.T, s *stack, cfg *config.Config, settings workflows.Settings) *gatewayClient {
	t.Helper()
	g, err := gateway.New(gateway.Options{
		Sessions:     starter.New(s.tc, settings, s.store, starter.WithLocales(cfg.LocaleTable())),
		Files:        s.store,
		BearerToken:  gatewayToken,
		Topics:       settings.Topics,
		MaxBodyBytes: cfg.Gateway.MaxBodyBytes,
	})
	require.NoError(t, err)
	srv := serveChecked(t, g)
	return &gatewayClient{t: t, base: srv.URL}
}

func (c *gatewayClient) startIn(user, topic, locale string) {
	c.t.Helper()
	var started gateway.StartSessionResponse
	require.Equal(c.t, http.StatusCreated, c.postJSON("/v1/sessions",
		gateway.StartSessionRequest{UserID: user, Topic: topic, Description: "Aidez-moi", Locale: locale}, &started))
}

// A user's locale picks the texts the bridge shows them, falling back
// fr_CA -> fr -> the defaults, end to end through the gateway.
func TestLocalesPickTheUsersTexts(t *testing.T) {
	s := newStack(t, emulator.Faults{})
	cfg := *s.cfg
	cfg.Locales = config.Locales{
		"fr": {
			"greeting":        "Bonjour, un conseiller est là.",
			"timeout_message": "Désolé, aucun conseiller n'est disponible.",
			"offline_message": "Nos conseillers sont absents.",
		},
		"fr-ca": {"agent_ended_message": "Le conseiller a mis fin à la discussion."},
	}
	require.NoError(t, cfg.Validate())
	c := localeGateway(t, s, &cfg, cfg.SessionSettings())

	t.Run("a French user is greeted in French", func(t *testing.T) {
		const user = "u-fr"
		c.startIn(user, "HR", "fr")
		conv := s.conversationOf(t, user)
		info, err := s.emu.Conversation(conv)
		require.NoError(t, err)
		assert.Equal(t, "fr", info.Language, "Salesforce gets the user's language")
		require.NoError(t, s.emu.Accept(conv, agentName))
		s.awaitNotice(t, user, "Bonjour, un conseiller est là.")
		for _, d := range s.sink.forUser(user) {
			assert.NotEqual(t, s.cfg.Session.Greeting, d.Text, "the English greeting is never shown")
		}
		require.Equal(t, http.StatusOK, c.postJSON("/v1/sessions/"+user+"/close", gateway.CloseRequest{RequestID: "c-1"}, nil))
		s.awaitClosed(t, user, workflows.CloseUserClosed)
	})

	t.Run("a fr_CA user's timeout shows the fr text", func(t *testing.T) {
		const user = "u-fr-ca"
		short := cfg.SessionSettings()
		short.AcceptTimeout = 3 * time.Second
		sc := localeGateway(t, s, &cfg, short)
		sc.startIn(user, "Payroll", "fr-CA")
		conv := s.conversationOf(t, user)
		info, err := s.emu.Conversation(conv)
		require.NoError(t, err)
		assert.Equal(t, "fr_CA", info.Language, "normalised for Salesforce")
		s.awaitNotice(t, user, "Désolé, aucun conseiller n'est disponible.")
		closed := s.awaitClosed(t, user, workflows.CloseAcceptTimeout)
		assert.Equal(t, workflows.CloseAcceptTimeout, closed.CloseReason)
	})

	t.Run("an unknown locale gets the default texts", func(t *testing.T) {
		const user = "u-de"
		c.startIn(user, "HR", "de-DE")
		conv := s.conversationOf(t, user)
		require.NoError(t, s.emu.Accept(conv, agentName))
		s.awaitNotice(t, user, s.cfg.Session.Greeting)
		require.Equal(t, http.StatusOK, c.postJSON("/v1/sessions/"+user+"/close", gateway.CloseRequest{RequestID: "c-1"}, nil))
		s.awaitClosed(t, user, workflows.CloseUserClosed)
	})

	// Like every invalid field of the start body (an unknown topic, a bad
	// user id) a malformed locale is 422; in the availability query it is
	// 400, like an unknown topic there.
	t.Run("a malformed locale is refused", func(t *testing.T) {
		var bad gateway.ErrorResponse
		status := c.postJSON("/v1/sessions", gateway.StartSessionRequest{UserID: "u-bad", Topic: "HR", Description: "x", Locale: "fr_CA-x"}, &bad)
		assert.Equal(t, http.StatusUnprocessableEntity, status)
		assert.Contains(t, bad.Error, `locale "fr_CA-x"`)
		status = c.call(http.MethodGet, "/v1/availability?topic=HR&locale=fran%C3%A7ais", "", nil, &bad)
		assert.Equal(t, http.StatusBadRequest, status)
		assert.Contains(t, bad.Error, "locale")
	})

	t.Run("availability answers in the locale", func(t *testing.T) {
		var a gateway.AvailabilityResponse
		require.Equal(t, http.StatusOK, c.call(http.MethodGet, "/v1/availability?topic=HR&locale=fr_CA", "", nil, &a))
		assert.Equal(t, "Nos conseillers sont absents.", a.OfflineMessage)
		require.Equal(t, http.StatusOK, c.call(http.MethodGet, "/v1/availability?topic=HR", "", nil, &a))
		assert.Equal(t, starter.DefaultOfflineMessage, a.OfflineMessage)
	})
}
