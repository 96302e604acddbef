package availability_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/liveagent-bridge/liveagent/availability"
	"github.com/liveagent-bridge/liveagent/miaw"
)

// fakeHours is Salesforce's business-hours endpoint.
type fakeHours struct {
	calls atomic.Int64
	mu    sync.Mutex
	bh    *miaw.BusinessHours
	err   error
	gate  chan struct{} // when non-nil, each call waits for it (or its ctx)
}

func (f *fakeHours) BusinessHours(ctx context.Context) (*miaw.BusinessHours, error) {
	f.calls.Add(1)
	f.mu.Lock()
	gate, bh, err := f.gate, f.bh, f.err
	f.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return bh, err
}

func (f *fakeHours) set(bh *miaw.BusinessHours, err error) {
	f.mu.Lock()
	f.bh, f.err = bh, err
	f.mu.Unlock()
}

// clock is a settable clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func open(from, to time.Time) *miaw.BusinessHours {
	return &miaw.BusinessHours{Configured: true, Active: true, Windows: []miaw.TimeWindow{{Start: from, End: to}}}
}

func TestAlwaysAsksNobody(t *testing.T) {
	src := &fakeHours{}
	c, err := availability.New(availability.Options{Source: availability.SourceAlways, Hours: src,
		Schedules: map[string]*availability.Schedule{availability.AnyTopic: closedSchedule(t)}})
	require.NoError(t, err)
	d, err := c.Check(context.Background(), "HR")
	require.NoError(t, err)
	assert.Equal(t, availability.Decision{Available: true}, d, "always overrides schedules")
	assert.Zero(t, src.calls.Load())
}

// closedSchedule is open one minute a week, Sundays: closed at t0.
func closedSchedule(t *testing.T) *availability.Schedule {
	s, err := availability.ParseSchedule(availability.ScheduleSpec{TimeZone: "UTC", Weekly: map[string][]string{"sun": {"03:00-03:01"}}})
	require.NoError(t, err)
	return s
}

// Salesforce is asked once per TTL; the cached windows still close on time.
func TestSalesforceAnswerIsCached(t *testing.T) {
	clk := &clock{now: t0}
	src := &fakeHours{bh: open(t0.Add(-time.Hour), t0.Add(30*time.Second))}
	c, err := availability.New(availability.Options{Source: availability.SourceSalesforce, Hours: src,
		CacheTTL: time.Minute, Now: clk.Now})
	require.NoError(t, err)
	ctx := context.Background()
	for range 10 {
		d, err := c.Check(ctx, "HR")
		require.NoError(t, err)
		assert.Equal(t, availability.Decision{Available: true, AvailableUntil: t0.Add(30 * time.Second)}, d)
	}
	clk.advance(40 * time.Second) // past the window, within the TTL
	d, err := c.Check(ctx, "HR")
	require.NoError(t, err)
	assert.False(t, d.Available, "the cached windows close on time")
	assert.Equal(t, int64(1), src.calls.Load())
	assert.Equal(t, availability.Stats{Fetches: 1, CacheHits: 10}, c.Stats())

	src.set(open(t0, t0.Add(time.Hour)), nil)
	clk.advance(20 * time.Second) // the TTL is over
	d, err = c.Check(ctx, "HR")
	require.NoError(t, err)
	assert.True(t, d.Available)
	assert.Equal(t, int64(2), src.calls.Load())
}

// CacheTTL 0 asks on every check.
func TestNoCache(t *testing.T) {
	src := &fakeHours{bh: open(t0.Add(-time.Hour), t0.Add(time.Hour))}
	c, err := availability.New(availability.Options{Source: availability.SourceSalesforce, Hours: src, Now: func() time.Time { return t0 }})
	require.NoError(t, err)
	for range 3 {
		_, err := c.Check(context.Background(), "HR")
		require.NoError(t, err)
	}
	assert.Equal(t, int64(3), src.calls.Load())
}

// A failing endpoint never blocks users: the hours count as unknown (open,
// no known end; a topic schedule still applies), the failure is logged and
// counted, and cached like an answer.
func TestSalesforceFailureFailsOpen(t *testing.T) {
	clk := &clock{now: t0}
	src := &fakeHours{err: &miaw.Error{Op: "business hours", Status: 503, Message: "Service Unavailable"}}
	var logs bytes.Buffer
	c, err := availability.New(availability.Options{Source: availability.SourceSalesforce, Hours: src,
		CacheTTL: time.Minute, Now: clk.Now, Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		Schedules: map[string]*availability.Schedule{"Payroll": closedSchedule(t)}})
	require.NoError(t, err)
	ctx := context.Background()
	d, err := c.Check(ctx, "HR")
	require.NoError(t, err)
	assert.Equal(t, availability.Decision{Available: true}, d)
	d, err = c.Check(ctx, "Payroll")
	require.NoError(t, err)
	assert.False(t, d.Available, "the topic schedule still applies")
	assert.Equal(t, availability.Stats{Fetches: 1, Failures: 1, CacheHits: 1}, c.Stats())
	assert.Contains(t, logs.String(), "assuming open")
	assert.Contains(t, logs.String(), "503")

	src.set(&miaw.BusinessHours{Configured: true, Active: true}, nil) // recovered: closed now
	clk.advance(time.Minute)
	d, err = c.Check(ctx, "HR")
	require.NoError(t, err)
	assert.False(t, d.Available)
	assert.Equal(t, int64(1), c.Stats().Failures)
}

// A slow endpoint is given up after FetchTimeout and counts as a failure.
func TestSalesforceTimeoutFailsOpen(t *testing.T) {
	src := &fakeHours{gate: make(chan struct{})} // never answers
	c, err := availability.New(availability.Options{Source: availability.SourceSalesforce, Hours: src,
		FetchTimeout: 20 * time.Millisecond, CacheTTL: time.Hour})
	require.NoError(t, err)
	d, err := c.Check(context.Background(), "HR")
	require.NoError(t, err)
	assert.True(t, d.Available)
	assert.Equal(t, int64(1), c.Stats().Failures)
}

// A burst of concurrent checks makes one request.
func TestBurstSharesOneRequest(t *testing.T) {
	gate := make(chan struct{})
	src := &fakeHours{gate: gate, bh: open(time.Now().Add(-time.Hour), time.Now().Add(time.Hour))}
	c, err := availability.New(availability.Options{Source: availability.SourceSalesforce, Hours: src, CacheTTL: time.Minute})
	require.NoError(t, err)
	const n = 50
	var wg sync.WaitGroup
	results := make(chan availability.Decision, n)
	for range n {
		wg.Go(func() {
			d, err := c.Check(context.Background(), "HR")
			assert.NoError(t, err)
			results <- d
		})
	}
	// Release the request once it is under way; checks arriving after it
	// completes are served from the cache.
	require.Eventually(t, func() bool { return src.calls.Load() == 1 }, 10*time.Second, time.Millisecond)
	close(gate)
	wg.Wait()
	close(results)
	for d := range results {
		assert.True(t, d.Available)
	}
	assert.Equal(t, int64(1), src.calls.Load())
}

// A caller that goes away gets its context's error; the shared request goes
// on for the others.
func TestCallerCancelled(t *testing.T) {
	gate := make(chan struct{})
	src := &fakeHours{gate: gate, bh: open(time.Now().Add(-time.Hour), time.Now().Add(time.Hour))}
	c, err := availability.New(availability.Options{Source: availability.SourceSalesforce, Hours: src, CacheTTL: time.Minute})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := c.Check(ctx, "HR")
		done <- err
	}()
	require.Eventually(t, func() bool { return src.calls.Load() == 1 }, 10*time.Second, time.Millisecond)
	cancel()
	assert.ErrorIs(t, <-done, context.Canceled)
	close(gate)
	d, err := c.Check(context.Background(), "HR")
	require.NoError(t, err)
	assert.True(t, d.Available)
	assert.Equal(t, int64(1), src.calls.Load(), "the cancelled caller's request completed and was cached")
}

// Source schedule: the topic's schedule, else the AnyTopic schedule, else
// unrestricted.
func TestScheduleSource(t *testing.T) {
	open9to5, err := availability.ParseSchedule(availability.ScheduleSpec{TimeZone: "UTC", Weekly: map[string][]string{"mon-fri": {"09:00-17:00"}}})
	require.NoError(t, err)
	c, err := availability.New(availability.Options{Source: availability.SourceSchedule, Now: func() time.Time { return t0 },
		Schedules: map[string]*availability.Schedule{"Payroll": open9to5, availability.AnyTopic: closedSchedule(t)}})
	require.NoError(t, err)
	ctx := context.Background()
	d, _ := c.Check(ctx, "Payroll")
	assert.Equal(t, availability.Decision{Available: true, AvailableUntil: t0.Add(5 * time.Hour)}, d)
	d, _ = c.Check(ctx, "HR")
	assert.False(t, d.Available, "the default schedule")

	c, err = availability.New(availability.Options{Source: availability.SourceSchedule,
		Schedules: map[string]*availability.Schedule{"Payroll": open9to5}})
	require.NoError(t, err)
	d, _ = c.Check(ctx, "HR")
	assert.Equal(t, availability.Decision{Available: true}, d, "no schedule: unrestricted")
}

func TestNewRefusesBadOptions(t *testing.T) {
	for name, o := range map[string]availability.Options{
		"unknown source":         {Source: "sometimes"},
		"salesforce, no source":  {Source: availability.SourceSalesforce},
		"negative ttl":           {CacheTTL: -time.Second},
		"negative fetch timeout": {FetchTimeout: -time.Second},
	} {
		_, err := availability.New(o)
		assert.Error(t, err, name)
	}
	c, err := availability.New(availability.Options{})
	require.NoError(t, err)
	d, err := c.Check(context.Background(), "any")
	assert.NoError(t, err)
	assert.True(t, d.Available, "the zero Options are always available")
	assert.False(t, errors.Is(err, context.Canceled))
}
