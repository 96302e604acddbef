package config

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Environ is the inverse of Load's environment reading: every key set from
// it reads back to the same Config.
func TestEnvironRoundTrips(t *testing.T) {
	want := validConfig(t)
	want.Session.Topics = []string{"HR", "IT access", "Payroll"}
	want.Session.AcceptTimeout = 90 * time.Second
	want.Session.MaxAttachmentBytes = 3 << 20
	want.Session.Greeting = "Welcome to HR Live Chat!"
	want.Salesforce.AttachmentHosts = []string{"files.example.com", "*.force.com"}
	want.Delivery.Mode = DeliveryWebhook
	want.Delivery.WebhookURL = "https://assistant.example.com/hook"
	want.Delivery.WebhookSecret = "s3cret-0123456789abcdef0123456789abcdef"
	want.Codec.Enabled = true
	want.Codec.ActiveKeyID = "k2"
	want.Codec.Keys = map[string]string{"k1": b64Key(32), "k2": b64Key(32)}
	want.Codec.OperatorToken = "operator-0123456789abcdef0123456789abcdef"
	want.Worker.ListenerSlots = 7
	want.Availability.Source = "schedule"
	want.Availability.OfflineMessage = "Closed, sorry."
	want.Availability.Schedules = []Schedule{
		{Topics: []string{"HR", "IT access"}, TimeZone: "Europe/Berlin", Weekly: map[string][]string{"mon-fri": {"09:00-12:00", "13:00-17:00"}}, Holidays: []string{"2026-12-25"}},
		{Topics: []string{"*"}, TimeZone: "UTC", Weekly: map[string][]string{"sat": {"22:00-06:00"}}},
	}
	want.Locales = Locales{"fr": {"greeting": "Bonjour, à vous !", "offline_message": "Fermé, désolé."}, "fr_ca": {"idle_message": "Salut"}}
	require.NoError(t, want.Validate())

	env := want.Environ()
	require.Len(t, env, len(Keys()), "one assignment per key")
	for _, kv := range env {
		name, value, ok := strings.Cut(kv, "=")
		require.True(t, ok, kv)
		require.True(t, strings.HasPrefix(name, EnvPrefix), name)
		t.Setenv(name, value)
	}
	got, err := Load("")
	require.NoError(t, err)
	require.Equal(t, want, got)
}

func TestChildEnvironDropsInheritedBridgeSettings(t *testing.T) {
	t.Setenv("LIVEAGENT_SESSION_GREETING", "inherited")
	t.Setenv("TEMPORAL_ADDRESS", "elsewhere:7233")
	c := validConfig(t)
	var greetings, addresses []string
	for _, kv := range c.ChildEnviron() {
		if v, ok := strings.CutPrefix(kv, "LIVEAGENT_SESSION_GREETING="); ok {
			greetings = append(greetings, v)
		}
		if strings.HasPrefix(kv, "TEMPORAL_") {
			addresses = append(addresses, kv)
		}
	}
	require.Equal(t, []string{c.Session.Greeting}, greetings)
	require.Empty(t, addresses)
}
