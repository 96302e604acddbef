package wiring_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/liveagent-bridge/liveagent/config"
	"github.com/liveagent-bridge/liveagent/internal/wiring"
	"github.com/liveagent-bridge/liveagent/miaw"
	"github.com/liveagent-bridge/liveagent/miaw/emulator"
)

func emulatorConfig(t *testing.T, faults ...emulator.Faults) (*config.Config, *emulator.Server) {
	t.Helper()
	keyPath, jwksPath, err := emulator.GenerateKeyPair(t.TempDir(), "k1")
	require.NoError(t, err)
	jwks, err := os.ReadFile(jwksPath)
	require.NoError(t, err)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	ecfg := emulator.Config{JWKS: jwks, Issuer: "iss", Logger: quiet}
	if len(faults) > 0 {
		ecfg.Faults = faults[0]
	}
	emu, err := emulator.New(ecfg)
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

// When Salesforce's business-hours endpoint fails (every call answered 503),
// agents count as available and the failure is logged, not passed on.
func TestStarterFailsOpenWhenSalesforceFails(t *testing.T) {
	cfg, emu := emulatorConfig(t, emulator.Faults{ErrorRate: 1})
	cfg.Availability.Source = "salesforce"
	require.NoError(t, cfg.Validate())
	emu.SetBusinessHoursOpen(false) // would say closed, if it answered
	var logs syncBuffer
	s, err := wiring.Starter(cfg, nil, nil, slog.New(slog.NewTextHandler(&logs, nil)))
	require.NoError(t, err)
	for range 3 {
		a, err := s.Availability(context.Background(), "HR")
		require.NoError(t, err)
		assert.True(t, a.Available)
		assert.True(t, a.AvailableUntil.IsZero())
	}
	assert.Equal(t, int64(1), emu.Stats().FaultErrors, "the failure is cached: one request in the TTL")
	assert.Contains(t, logs.String(), "assuming open")
	assert.Contains(t, logs.String(), "503")
}

// syncBuffer is a bytes.Buffer safe for the logger's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
