package worker

import (
	"bytes"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/mocks"

	"github.com/liveagent-bridge/liveagent/activities"
	"github.com/liveagent-bridge/liveagent/config"
)

func TestNewSink(t *testing.T) {
	s, err := NewSink(config.Delivery{Mode: config.DeliveryConsole}, &bytes.Buffer{})
	require.NoError(t, err)
	assert.IsType(t, &activities.ConsoleSink{}, s)

	s, err = NewSink(config.Delivery{Mode: config.DeliveryWebhook, WebhookURL: "http://127.0.0.1:1/hook", WebhookSecret: "x", Timeout: time.Second}, nil)
	require.NoError(t, err)
	assert.IsType(t, &activities.WebhookSink{}, s)

	_, err = NewSink(config.Delivery{Mode: "pigeon"}, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "delivery.mode")
}

func TestNewWorkersRequiresClientAndSink(t *testing.T) {
	cfg := config.Default()
	_, err := newWorkers(cfg, nil, activities.NewConsoleSink(&bytes.Buffer{}), nil, slog.Default(), time.Second)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "temporal client is nil")
	_, err = newWorkers(cfg, mocks.NewClient(t), nil, nil, slog.Default(), time.Second)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "sink")
}

func TestNewWorkersRejectsInvalidMIAWConfig(t *testing.T) {
	cfg := config.Default() // no Salesforce settings
	cfg.Attachments.Dir = t.TempDir()
	_, err := newWorkers(cfg, mocks.NewClient(t), activities.NewConsoleSink(&bytes.Buffer{}), nil, slog.Default(), time.Second)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "miaw client")
}
