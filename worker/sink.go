package worker

import (
	"fmt"
	"io"

	"github.com/liveagent-bridge/liveagent/activities"
	"github.com/liveagent-bridge/liveagent/config"
)

// NewSink builds the delivery sink cfg.Delivery asks for: a signed HTTP
// webhook to the assistant, or the console sink writing to console.
func NewSink(cfg config.Delivery, console io.Writer) (activities.Sink, error) {
	switch cfg.Mode {
	case config.DeliveryWebhook:
		return activities.NewWebhookSink(cfg.WebhookURL, []byte(cfg.WebhookSecret), cfg.Timeout, nil), nil
	case config.DeliveryConsole, "":
		return activities.NewConsoleSink(console), nil
	}
	return nil, fmt.Errorf("config: delivery.mode: must be webhook or console, got %q", cfg.Mode)
}
