package starter

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/liveagent-bridge/liveagent/availability"
	"github.com/liveagent-bridge/liveagent/workflows"
)

// DefaultOfflineMessage is what the user is told when live agents are
// offline and Settings.OfflineMessage is empty.
const DefaultOfflineMessage = workflows.DefaultOfflineMessage

// AvailabilityChecker decides whether a live agent can be offered for a
// topic now; *availability.Checker is one. Check fails only when ctx ends.
type AvailabilityChecker interface {
	Check(ctx context.Context, topic string) (availability.Decision, error)
}

// WithAvailability makes Start ask checker first: while agents are offline
// it starts nothing and returns an *OfflineError; while they are available
// the session is told when they stop being (SessionRequest.AvailableUntil).
// Without it agents are always available.
func WithAvailability(checker AvailabilityChecker) Option {
	return func(c *Client) { c.availability = checker }
}

// Availability is the answer of Client.Availability.
type Availability struct {
	Topic string
	// Available, AvailableUntil (zero: no known end) and NextOpen (zero:
	// available, or no known opening).
	availability.Decision
	// OfflineMessage is what the user is told while agents are offline (and
	// when they go offline during the wait).
	OfflineMessage string
}

// ErrOffline is wrapped by *OfflineError.
var ErrOffline = errors.New("live agents are offline")

// OfflineError is returned by Start while live agents are offline: nothing
// was started and nothing was created in Salesforce. The assistant can tell
// the user Message and offer something else.
type OfflineError struct {
	Topic string
	// Message is the configured offline message.
	Message string
	// NextOpen is when agents are next expected; zero when unknown.
	NextOpen time.Time
}

func (e *OfflineError) Error() string {
	msg := fmt.Sprintf("%s for topic %q", ErrOffline, e.Topic)
	if !e.NextOpen.IsZero() {
		msg += " until " + e.NextOpen.UTC().Format(time.RFC3339)
	}
	return msg
}

// Is makes errors.Is(err, ErrOffline) true.
func (e *OfflineError) Is(target error) bool { return target == ErrOffline }

// Availability says whether a live agent can be offered for topic now (one
// of the configured topics), until when, or when next. Ask before offering
// the user a human; Start asks again. The offline message is the default
// locale's; AvailabilityIn gives the user's.
func (c *Client) Availability(ctx context.Context, topic string) (Availability, error) {
	return c.AvailabilityIn(ctx, topic, "")
}

// AvailabilityIn is Availability with the offline message in locale (as
// StartRequest.Locale: "" is the default, an unknown one falls back to it;
// a malformed one is ErrInvalid).
func (c *Client) AvailabilityIn(ctx context.Context, topic, locale string) (Availability, error) {
	if err := c.validateTopic(topic); err != nil {
		return Availability{}, err
	}
	l, err := validateLocale(locale)
	if err != nil {
		return Availability{}, err
	}
	return c.check(ctx, topic, c.settingsFor(l))
}

// check asks the availability checker; settings are the user's (their
// offline message).
func (c *Client) check(ctx context.Context, topic string, settings workflows.Settings) (Availability, error) {
	a := Availability{Topic: topic, OfflineMessage: settings.OfflineMessage, Decision: availability.Decision{Available: true}}
	if c.availability == nil {
		return a, nil
	}
	d, err := c.availability.Check(ctx, topic)
	if err != nil {
		return Availability{}, fmt.Errorf("availability of %q: %w", topic, err)
	}
	a.Decision = d
	return a, nil
}
