package availability_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/liveagent-bridge/liveagent/availability"
	"github.com/liveagent-bridge/liveagent/miaw"
)

var t0 = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC) // a Monday

func win(from, to time.Duration) availability.Window {
	return availability.Window{Start: t0.Add(from), End: t0.Add(to)}
}

// Salesforce's windows alone: inside one is available until its end (touching
// or overlapping windows count as one), between them closed until the next.
func TestDecideOnSalesforceWindows(t *testing.T) {
	h := &availability.Hours{Windows: []availability.Window{
		win(48*time.Hour, 56*time.Hour), // unordered, as an answer may be
		win(-time.Hour, time.Hour),
		win(time.Hour, 2*time.Hour), // touches the first
		win(30*time.Minute, 90*time.Minute),
		win(5*time.Hour, 5*time.Hour), // empty: ignored
	}}
	d := availability.Decide(t0, h, nil)
	assert.Equal(t, availability.Decision{Available: true, AvailableUntil: t0.Add(2 * time.Hour)}, d)
	d = availability.Decide(t0.Add(2*time.Hour), h, nil)
	assert.Equal(t, availability.Decision{NextOpen: t0.Add(48 * time.Hour)}, d)
	d = availability.Decide(t0.Add(60*time.Hour), h, nil)
	assert.Equal(t, availability.Decision{}, d, "after the last window: closed, no known opening")

	assert.Equal(t, availability.Decision{}, availability.Decide(t0, &availability.Hours{}, nil), "no window: closed")
	assert.Equal(t, availability.Decision{Available: true}, availability.Decide(t0, &availability.Hours{Unrestricted: true}, nil))
	assert.Equal(t, availability.Decision{Available: true}, availability.Decide(t0, nil, nil), "no source: unrestricted")
}

// With Salesforce's hours and a topic schedule, agents are available only
// when both say open: the window is their intersection.
func TestDecideCombinesBothSources(t *testing.T) {
	sched, err := availability.ParseSchedule(availability.ScheduleSpec{TimeZone: "UTC",
		Weekly: map[string][]string{"mon-fri": {"09:00-17:00"}}})
	require.NoError(t, err)
	// Salesforce: Monday 08:00-14:00 and Tuesday 10:00-20:00.
	h := &availability.Hours{Windows: []availability.Window{win(-4*time.Hour, 2*time.Hour), win(22*time.Hour, 32*time.Hour)}}

	d := availability.Decide(t0, h, sched) // Monday 12:00: both open; Salesforce closes first
	assert.Equal(t, availability.Decision{Available: true, AvailableUntil: t0.Add(2 * time.Hour)}, d)
	d = availability.Decide(t0.Add(-3*time.Hour-30*time.Minute), h, sched) // 08:30: Salesforce open, schedule not yet
	assert.Equal(t, availability.Decision{NextOpen: t0.Add(-3 * time.Hour)}, d)
	d = availability.Decide(t0.Add(3*time.Hour), h, sched) // Monday 15:00: schedule open, Salesforce closed
	assert.Equal(t, availability.Decision{NextOpen: t0.Add(22 * time.Hour)}, d, "next: Tuesday 10:00 when both are open")
	d = availability.Decide(t0.Add(23*time.Hour), h, sched) // Tuesday 11:00: schedule closes first
	assert.Equal(t, availability.Decision{Available: true, AvailableUntil: t0.Add(29 * time.Hour)}, d)
	d = availability.Decide(t0.Add(30*time.Hour), h, sched) // Tuesday 18:00: nothing known after Salesforce's last window
	assert.Equal(t, availability.Decision{}, d)
	// Unrestricted Salesforce hours leave the schedule alone.
	d = availability.Decide(t0, &availability.Hours{Unrestricted: true}, sched)
	assert.Equal(t, availability.Decision{Available: true, AvailableUntil: t0.Add(5 * time.Hour)}, d)
}

func TestFromSalesforce(t *testing.T) {
	w := miaw.TimeWindow{Start: t0, End: t0.Add(time.Hour)}
	assert.Equal(t, availability.Hours{Unrestricted: true}, availability.FromSalesforce(nil))
	assert.Equal(t, availability.Hours{Unrestricted: true}, availability.FromSalesforce(&miaw.BusinessHours{}), "no business hours configured")
	assert.Equal(t, availability.Hours{}, availability.FromSalesforce(&miaw.BusinessHours{Configured: true, Windows: []miaw.TimeWindow{w}}), "inactive: closed")
	assert.Equal(t, availability.Hours{Windows: []availability.Window{{Start: w.Start, End: w.End}}},
		availability.FromSalesforce(&miaw.BusinessHours{Configured: true, Active: true, Windows: []miaw.TimeWindow{w}}))
}
