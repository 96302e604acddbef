package availability_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/liveagent-bridge/liveagent/availability"
	"github.com/liveagent-bridge/liveagent/miaw"
)

func alwaysSchedule(t *testing.T) *availability.Schedule {
	t.Helper()
	s, err := availability.ParseSchedule(availability.ScheduleSpec{Always: true})
	require.NoError(t, err)
	require.True(t, s.Always())
	return s
}

// An always-open schedule needs no time zone and refuses hours it would
// override, in one line naming the part.
func TestParseAlwaysSchedule(t *testing.T) {
	alwaysSchedule(t)
	s, err := availability.ParseSchedule(availability.ScheduleSpec{Always: true, TimeZone: "Europe/Berlin"})
	require.NoError(t, err, "a time zone is allowed")
	assert.True(t, s.Always())
	assert.False(t, schedule(t, "UTC", map[string][]string{"mon": {"09:00-17:00"}}).Always())
	var none *availability.Schedule
	assert.False(t, none.Always(), "no schedule is not always open")

	for _, c := range []struct {
		spec availability.ScheduleSpec
		want string
	}{
		{availability.ScheduleSpec{Always: true, Weekly: map[string][]string{"mon": {"09:00-17:00"}}}, "weekly: must be empty with always: true"},
		{availability.ScheduleSpec{Always: true, Holidays: []string{"2026-12-25"}}, "holidays: must be empty with always: true"},
		{availability.ScheduleSpec{Always: true, TimeZone: "Mars/Olympus"}, `time_zone: "Mars/Olympus" is not an IANA time zone`},
	} {
		_, err := availability.ParseSchedule(c.spec)
		if assert.Error(t, err, c.want) {
			assert.Contains(t, err.Error(), c.want)
			assert.NotContains(t, err.Error(), "\n")
		}
	}
}

// Decide: an always-open schedule is available with no known end whatever
// Salesforce's hours say (closed, an ending window, unknown).
func TestDecideAlwaysOverridesSalesforce(t *testing.T) {
	s := alwaysSchedule(t)
	want := availability.Decision{Available: true}
	for name, h := range map[string]*availability.Hours{
		"closed":         {},
		"window ends":    {Windows: []availability.Window{win(-time.Hour, time.Hour)}},
		"opens later":    {Windows: []availability.Window{win(time.Hour, 2*time.Hour)}},
		"unrestricted":   {Unrestricted: true},
		"unknown (none)": nil,
	} {
		assert.Equal(t, want, availability.Decide(t0, h, s), name)
	}
}

// The checker: with source salesforce, a topic whose schedule is always
// open is available while Salesforce is closed, and Salesforce is not even
// asked for it; the other topics still follow Salesforce (and their
// schedules). With source schedule, it is the topic's schedule.
func TestCheckerAlwaysTopics(t *testing.T) {
	ctx := context.Background()
	src := &fakeHours{bh: &miaw.BusinessHours{Configured: true}} // inactive: closed
	office := schedule(t, "UTC", map[string][]string{"mon-fri": {"09:00-17:00"}})
	c, err := availability.New(availability.Options{Source: availability.SourceSalesforce, Hours: src,
		Now: func() time.Time { return t0 }, Schedules: map[string]*availability.Schedule{
			"IT outage": alwaysSchedule(t), "Payroll": office,
		}})
	require.NoError(t, err)

	d, err := c.Check(ctx, "IT outage")
	require.NoError(t, err)
	assert.Equal(t, availability.Decision{Available: true}, d)
	assert.Zero(t, src.calls.Load(), "an always-open topic does not ask Salesforce")

	d, err = c.Check(ctx, "Payroll")
	require.NoError(t, err)
	assert.False(t, d.Available, "Salesforce is closed, and both must be open")
	d, err = c.Check(ctx, "HR")
	require.NoError(t, err)
	assert.False(t, d.Available, "no schedule: Salesforce decides")
	assert.Equal(t, int64(2), src.calls.Load(), "one request for each of the other topics (no cache)")

	// As the default entry it covers every topic without its own.
	c, err = availability.New(availability.Options{Source: availability.SourceSalesforce, Hours: src,
		Now: func() time.Time { return t0 }, Schedules: map[string]*availability.Schedule{
			"Payroll": office, availability.AnyTopic: alwaysSchedule(t),
		}})
	require.NoError(t, err)
	d, _ = c.Check(ctx, "HR")
	assert.Equal(t, availability.Decision{Available: true}, d)
	d, _ = c.Check(ctx, "Payroll")
	assert.False(t, d.Available, "its own entry, not the default")

	c, err = availability.New(availability.Options{Source: availability.SourceSchedule,
		Now:       func() time.Time { return t0.Add(8 * time.Hour) }, // Monday 20:00: the office is closed
		Schedules: map[string]*availability.Schedule{"IT outage": alwaysSchedule(t), availability.AnyTopic: office}})
	require.NoError(t, err)
	d, _ = c.Check(ctx, "IT outage")
	assert.Equal(t, availability.Decision{Available: true}, d)
	d, _ = c.Check(ctx, "HR")
	assert.False(t, d.Available)
}
