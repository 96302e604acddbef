package wiring_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/liveagent-bridge/liveagent/config"
	"github.com/liveagent-bridge/liveagent/internal/wiring"
	"github.com/liveagent-bridge/liveagent/miaw"
	"github.com/liveagent-bridge/liveagent/miaw/emulator"
)

func emulatorConfig(t *testing.T) (*config.Config, *emulator.Server) {
	t.Helper()
	keyPath, jwksPath, err := emulator.GenerateKeyPair(t.TempDir(), "k1")
	require.NoError(t, err)
	jwks, err := os.ReadFile(jwksPath)
	require.NoError(t, err)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	emu, err := emulator.New(emulator.Config{JWKS: jwks, Issuer: "iss", Logger: quiet})
	require.NoError(t, err)
	base, err := emu.Start("127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = emu.Close() })
	cfg := config.Default()
	cfg.Salesforce.SCRTURL = base
	cfg.Salesforce.AllowAnyHost = true
	cfg.Salesforce.OrgID = "00D000000000001"
	cfg.Salesforce.Deployment = "Live_Agent_Bridge"
	cfg.Salesforce.PrivateKeyFile = keyPath
	cfg.Salesforce.KeyID = "k1"
	cfg.Salesforce.Issuer = "iss"
	cfg.Session.Topics = []string{"HR", "Payroll"}
	return cfg, emu
}

// With availability.source salesforce the starter follows the emulator's
// business hours, and a topic schedule applies on top.
func TestStarterFollowsSalesforceHours(t *testing.T) {
	cfg, emu := emulatorConfig(t)
	cfg.Availability.Source = "salesforce"
	cfg.Availability.CacheTTL = 0
	cfg.Availability.OfflineMessage = "Closed."
	cfg.Availability.Schedules = []config.Schedule{{Topics: []string{"Payroll"}, TimeZone: "UTC",
		Weekly: map[string][]string{"sun": {"03:00-03:01"}}}}
	require.NoError(t, cfg.Validate())
	s, err := wiring.Starter(cfg, nil, nil, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	ctx := context.Background()

	until := time.Now().Add(time.Hour).Truncate(time.Millisecond)
	emu.SetBusinessHours([]miaw.TimeWindow{{Start: time.Now().Add(-time.Minute), End: until}})
	a, err := s.Availability(ctx, "HR")
	require.NoError(t, err)
	assert.True(t, a.Available)
	assert.True(t, until.Equal(a.AvailableUntil), "%v", a.AvailableUntil)
	assert.Equal(t, "Closed.", a.OfflineMessage)
	a, err = s.Availability(ctx, "Payroll")
	require.NoError(t, err)
	if now := time.Now().UTC(); now.Weekday() != time.Sunday || now.Hour() != 3 || now.Minute() != 0 {
		assert.False(t, a.Available, "Payroll's schedule is closed")
	}

	emu.SetBusinessHoursOpen(false)
	a, err = s.Availability(ctx, "HR")
	require.NoError(t, err)
	assert.False(t, a.Available)
}

// The default (always) never asks Salesforce.
func TestStarterDefaultIsAlways(t *testing.T) {
	cfg, emu := emulatorConfig(t)
	require.NoError(t, cfg.Validate())
	emu.SetBusinessHoursOpen(false)
	s, err := wiring.Starter(cfg, nil, nil, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	a, err := s.Availability(context.Background(), "HR")
	require.NoError(t, err)
	assert.True(t, a.Available)
	assert.Zero(t, emu.Stats().Requests)
}
