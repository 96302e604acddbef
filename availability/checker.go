package availability

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/liveagent-bridge/liveagent/miaw"
)

// Source names what decides availability (availability.source).
type Source string

const (
	SourceAlways     Source = "always"
	SourceSalesforce Source = "salesforce"
	SourceSchedule   Source = "schedule"
)

// AnyTopic is the Options.Schedules key of the schedule for topics that have
// none of their own.
const AnyTopic = "*"

// Defaults of Options.
const (
	DefaultCacheTTL     = 60 * time.Second
	DefaultFetchTimeout = 5 * time.Second
)

// HoursSource reads Salesforce's business hours; *miaw.Client is one.
type HoursSource interface {
	BusinessHours(ctx context.Context) (*miaw.BusinessHours, error)
}

// Options configure New.
type Options struct {
	// Source decides; "" means SourceAlways.
	Source Source
	// Schedules are the topic schedules, by topic; AnyTopic is the default
	// for topics without their own. Ignored with SourceAlways. A topic whose
	// schedule is always open (Schedule.Always) is available with any
	// source, and Salesforce is not asked about it.
	Schedules map[string]*Schedule
	// Hours reads Salesforce's business hours; required with
	// SourceSalesforce.
	Hours HoursSource
	// CacheTTL is how long Salesforce's answer (or its failure) is reused;
	// 0 asks on every check.
	CacheTTL time.Duration
	// FetchTimeout bounds one request to Salesforce (default
	// DefaultFetchTimeout); past it the hours count as unknown.
	FetchTimeout time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger receives a warning per failed request (default: discard).
	Logger *slog.Logger
}

// Checker answers availability per topic. It is safe for concurrent use.
type Checker struct {
	opts   Options
	flight singleflight.Group

	mu        sync.Mutex
	fetched   bool
	fetchedAt time.Time
	hours     *Hours // nil after a failure: unknown

	fetches, failures, cacheHits atomic.Int64
}

// Stats are counters since New.
type Stats struct {
	Fetches   int64 // requests to Salesforce's business-hours endpoint
	Failures  int64 // of those, failed or timed out (the checker then assumed open)
	CacheHits int64 // checks answered from the cached answer
}

// New validates opts and returns a Checker. It makes no request.
func New(opts Options) (*Checker, error) {
	switch opts.Source {
	case "":
		opts.Source = SourceAlways
	case SourceAlways, SourceSchedule:
	case SourceSalesforce:
		if opts.Hours == nil {
			return nil, errors.New("availability: source salesforce needs an HoursSource")
		}
	default:
		return nil, fmt.Errorf("availability: unknown source %q (want always, salesforce or schedule)", opts.Source)
	}
	if opts.CacheTTL < 0 || opts.FetchTimeout < 0 {
		return nil, errors.New("availability: CacheTTL and FetchTimeout must not be negative")
	}
	if opts.FetchTimeout == 0 {
		opts.FetchTimeout = DefaultFetchTimeout
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Checker{opts: opts}, nil
}

// Check decides availability for topic now. It fails only when ctx ends
// while Salesforce is being asked; a failure of Salesforce itself counts as
// open (see the package doc). topic is not validated here.
func (c *Checker) Check(ctx context.Context, topic string) (Decision, error) {
	if c.opts.Source == SourceAlways {
		return Decision{Available: true}, nil
	}
	schedule := c.opts.Schedules[topic]
	if schedule == nil {
		schedule = c.opts.Schedules[AnyTopic]
	}
	if schedule.Always() { // overrides Salesforce's hours: nothing to ask
		return Decide(c.opts.Now(), nil, schedule), nil
	}
	var hours *Hours
	if c.opts.Source == SourceSalesforce {
		var err error
		if hours, err = c.salesforceHours(ctx); err != nil {
			return Decision{}, err
		}
	}
	return Decide(c.opts.Now(), hours, schedule), nil
}

// Stats returns a snapshot of the counters.
func (c *Checker) Stats() Stats {
	return Stats{Fetches: c.fetches.Load(), Failures: c.failures.Load(), CacheHits: c.cacheHits.Load()}
}

// salesforceHours returns Salesforce's answer, from the cache when fresh;
// nil means unknown (the last request failed).
func (c *Checker) salesforceHours(ctx context.Context) (*Hours, error) {
	if h, ok := c.cached(); ok {
		c.cacheHits.Add(1)
		return h, nil
	}
	// One request for every concurrent check; it runs on its own deadline
	// so one caller going away does not fail the others.
	ch := c.flight.DoChan("hours", func() (any, error) {
		// A request that finished between the cache look-up above and
		// here has just filled the cache.
		if h, ok := c.cached(); ok {
			return h, nil
		}
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.opts.FetchTimeout)
		defer cancel()
		c.fetches.Add(1)
		var h *Hours
		bh, err := c.opts.Hours.BusinessHours(fctx)
		if err != nil {
			c.failures.Add(1)
			c.opts.Logger.Warn("availability: cannot read Salesforce business hours; assuming open", "error", err)
		} else {
			fromSF := FromSalesforce(bh)
			h = &fromSF
		}
		c.mu.Lock()
		c.fetched, c.fetchedAt, c.hours = true, c.opts.Now(), h
		c.mu.Unlock()
		return h, nil
	})
	select {
	case r := <-ch:
		return r.Val.(*Hours), nil
	case <-ctx.Done():
		return nil, fmt.Errorf("availability: read Salesforce business hours: %w", ctx.Err())
	}
}

// cached returns the cached answer when it is fresh.
func (c *Checker) cached() (*Hours, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fetched && c.opts.CacheTTL > 0 && c.opts.Now().Sub(c.fetchedAt) < c.opts.CacheTTL {
		return c.hours, true
	}
	return nil, false
}

// FromSalesforce reads Salesforce's answer (see the package doc): no
// business hours configured is unrestricted, an inactive record is closed,
// otherwise the listed windows.
func FromSalesforce(bh *miaw.BusinessHours) Hours {
	if bh == nil || !bh.Configured {
		return Hours{Unrestricted: true}
	}
	if !bh.Active {
		return Hours{}
	}
	out := Hours{Windows: make([]Window, 0, len(bh.Windows))}
	for _, w := range bh.Windows {
		out.Windows = append(out.Windows, Window{Start: w.Start, End: w.End})
	}
	return out
}
