// Package wiring builds the assistant's client (package starter) from
// configuration: the one place the gateway, the CLI, the demo and the
// end-to-end tests get it from, so every start is checked the same way.
package wiring

import (
	"fmt"
	"log/slog"

	"go.temporal.io/sdk/client"

	"github.com/liveagent-bridge/liveagent/attachstore"
	"github.com/liveagent-bridge/liveagent/availability"
	"github.com/liveagent-bridge/liveagent/config"
	"github.com/liveagent-bridge/liveagent/miaw"
	"github.com/liveagent-bridge/liveagent/starter"
)

// Starter returns the starter client for cfg (valid): its session settings
// and per-locale texts,
// store (may be nil when attachments are not sent) and the availability
// check of availability.*, which asks Salesforce's business-hours endpoint
// through a MIAW client when availability.source is salesforce, and, with
// salesforce.conversation_history enabled, the handoff history stored for
// the Conversation History API too. It makes no network call.
func Starter(cfg *config.Config, tc client.Client, store *attachstore.Store, logger *slog.Logger) (*starter.Client, error) {
	opts, err := cfg.AvailabilityOptions()
	if err != nil {
		return nil, err
	}
	if opts.Source == availability.SourceSalesforce {
		mc, err := miaw.New(cfg.MIAW(), miaw.WithLogger(logger.With("component", "miaw")))
		if err != nil {
			return nil, fmt.Errorf("availability: salesforce client: %w", err)
		}
		opts.Hours = mc
	}
	opts.Logger = logger.With("component", "availability")
	checker, err := availability.New(opts)
	if err != nil {
		return nil, err
	}
	options := []starter.Option{starter.WithAvailability(checker),
		starter.WithHandoffExcludedTopics(cfg.Session.HandoffExcludedTopics...),
		starter.WithLocales(cfg.LocaleTable())}
	if _, ok := cfg.HistoryAPI(); ok {
		options = append(options, starter.WithHistoryImport())
	}
	return starter.New(tc, cfg.SessionSettings(), store, options...), nil
}
