package config

import (
	"net/url"
	"strings"

	"github.com/liveagent-bridge/liveagent/miaw"
)

// ConversationHistory is salesforce.conversation_history: loading the
// assistant's conversation into the agent's console with Salesforce's
// Conversation History API (a connected app linked to the messaging
// channel, OAuth 2.0 JWT bearer flow). Off by default; the transcript file
// stays the fallback whenever the import fails.
type ConversationHistory struct {
	Enabled                  bool   // salesforce.conversation_history.enabled
	ChannelAddressIdentifier string // salesforce.conversation_history.channel_address_identifier
	ConnectedApp             string // salesforce.conversation_history.connected_app (developer name)
	LoginURL                 string // salesforce.conversation_history.login_url
	ClientID                 string // salesforce.conversation_history.client_id (consumer key)
	Username                 string // salesforce.conversation_history.username
	// PrivateKeyFile signs the OAuth JWT bearer assertions; "" uses
	// salesforce.private_key_file.
	PrivateKeyFile string // salesforce.conversation_history.private_key_file
}

// DefaultLoginURL is salesforce.conversation_history.login_url's default.
const DefaultLoginURL = "https://login.salesforce.com"

const historyKey = "salesforce.conversation_history."

func (c *Config) validateConversationHistory() error {
	h := c.Salesforce.ConversationHistory
	if !h.Enabled {
		return nil
	}
	for _, f := range []struct{ key, value, what string }{
		{"channel_address_identifier", h.ChannelAddressIdentifier, "the messaging channel's ChannelAddressIdentifier"},
		{"connected_app", h.ConnectedApp, "the developer name of the connected app linked to the messaging channel"},
		{"client_id", h.ClientID, "the connected app's consumer key"},
		{"username", h.Username, "the integration user the connected app pre-authorizes"},
	} {
		if strings.TrimSpace(f.value) == "" {
			return fieldErr(historyKey+f.key, "must be set when %senabled is true (%s)", historyKey, f.what)
		}
	}
	u, err := url.Parse(h.LoginURL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || (u.Path != "" && u.Path != "/") {
		return fieldErr(historyKey+"login_url", "must be an absolute http(s) URL without a path, e.g. %s", DefaultLoginURL)
	}
	if u.Scheme != "https" && !c.Salesforce.AllowAnyHost {
		return fieldErr(historyKey+"login_url", "must use https (set salesforce.allow_any_host only for the emulator)")
	}
	if h.PrivateKeyFile != "" {
		if err := checkRSAKeyFile(h.PrivateKeyFile); err != nil {
			return fieldErr(historyKey+"private_key_file", "%s: %s", h.PrivateKeyFile, err)
		}
	}
	return nil
}

// HistoryAPI maps salesforce.conversation_history to the Conversation
// History API client's configuration; ok is false when it is disabled.
func (c *Config) HistoryAPI() (_ miaw.HistoryConfig, ok bool) {
	h := c.Salesforce.ConversationHistory
	if !h.Enabled {
		return miaw.HistoryConfig{}, false
	}
	key := h.PrivateKeyFile
	if key == "" {
		key = c.Salesforce.PrivateKeyFile
	}
	return miaw.HistoryConfig{
		BaseURL:                  c.Salesforce.SCRTURL,
		AllowAnyHost:             c.Salesforce.AllowAnyHost,
		OrgID:                    c.Salesforce.OrgID,
		ChannelAddressIdentifier: h.ChannelAddressIdentifier,
		ConnectedApp:             h.ConnectedApp,
		LoginURL:                 strings.TrimRight(h.LoginURL, "/"),
		ClientID:                 h.ClientID,
		Username:                 h.Username,
		PrivateKeyFile:           key,
	}, true
}
