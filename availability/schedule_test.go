package availability_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/liveagent-bridge/liveagent/availability"
)

func zone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	require.NoError(t, err)
	return loc
}

func schedule(t *testing.T, tz string, weekly map[string][]string, holidays ...string) *availability.Schedule {
	t.Helper()
	s, err := availability.ParseSchedule(availability.ScheduleSpec{TimeZone: tz, Weekly: weekly, Holidays: holidays})
	require.NoError(t, err)
	return s
}

// at is a wall time in loc (the test's own reading of it).
func at(loc *time.Location, y int, m time.Month, d, h, mi int) time.Time {
	return time.Date(y, m, d, h, mi, 0, 0, loc)
}

// Office hours on weekdays: open inside, closed outside, with the end of
// today's window or the next opening (tomorrow, or Monday after a weekend).
func TestWeekdayOfficeHours(t *testing.T) {
	ber := zone(t, "Europe/Berlin")
	s := schedule(t, "Europe/Berlin", map[string][]string{"mon-fri": {"09:00-12:30", "13:30-17:00"}})
	// 2026-11-27 is a Friday.
	cases := []struct {
		name       string
		now        time.Time
		available  bool
		until, nxt time.Time
	}{
		{"before opening", at(ber, 2026, 11, 27, 8, 59), false, time.Time{}, at(ber, 2026, 11, 27, 9, 0)},
		{"at opening", at(ber, 2026, 11, 27, 9, 0), true, at(ber, 2026, 11, 27, 12, 30), time.Time{}},
		{"lunch break", at(ber, 2026, 11, 27, 12, 30), false, time.Time{}, at(ber, 2026, 11, 27, 13, 30)},
		{"afternoon", at(ber, 2026, 11, 27, 16, 59), true, at(ber, 2026, 11, 27, 17, 0), time.Time{}},
		{"friday evening to monday", at(ber, 2026, 11, 27, 17, 0), false, time.Time{}, at(ber, 2026, 11, 30, 9, 0)},
		{"sunday", at(ber, 2026, 11, 29, 12, 0), false, time.Time{}, at(ber, 2026, 11, 30, 9, 0)},
	}
	for _, c := range cases {
		d := availability.Decide(c.now, nil, s)
		assert.Equal(t, c.available, d.Available, c.name)
		assert.True(t, c.until.Equal(d.AvailableUntil), "%s: until %v, want %v", c.name, d.AvailableUntil, c.until)
		assert.True(t, c.nxt.Equal(d.NextOpen), "%s: next %v, want %v", c.name, d.NextOpen, c.nxt)
	}
	// The same instant seen from another zone decides the same.
	d := availability.Decide(at(ber, 2026, 11, 27, 10, 0).UTC(), nil, s)
	assert.True(t, d.Available)
}

// A night range runs past midnight into the next day, also into a day that
// has no range of its own, and after the last day of the week.
func TestRangeSpanningMidnight(t *testing.T) {
	ny := zone(t, "America/New_York")
	s := schedule(t, "America/New_York", map[string][]string{"fri-sun": {"22:00-06:00"}})
	// Monday 2026-11-30 03:00: Sunday night's range is still open.
	d := availability.Decide(at(ny, 2026, 11, 30, 3, 0), nil, s)
	require.True(t, d.Available)
	assert.True(t, at(ny, 2026, 11, 30, 6, 0).Equal(d.AvailableUntil), "%v", d.AvailableUntil)
	// Monday 06:00 closes until Friday 22:00.
	d = availability.Decide(at(ny, 2026, 11, 30, 6, 0), nil, s)
	require.False(t, d.Available)
	assert.True(t, at(ny, 2026, 12, 4, 22, 0).Equal(d.NextOpen), "%v", d.NextOpen)
	// Saturday 23:00: Friday's range ended at 06:00, Saturday's is open.
	d = availability.Decide(at(ny, 2026, 12, 5, 23, 0), nil, s)
	require.True(t, d.Available)
	assert.True(t, at(ny, 2026, 12, 6, 6, 0).Equal(d.AvailableUntil))
	// 22:00-00:00 and 00:00-24:00 touch: one window over midnight.
	s = schedule(t, "America/New_York", map[string][]string{"mon": {"22:00-00:00"}, "tue": {"00:00-24:00"}})
	d = availability.Decide(at(ny, 2026, 11, 30, 23, 0), nil, s)
	require.True(t, d.Available)
	assert.True(t, at(ny, 2026, 12, 2, 0, 0).Equal(d.AvailableUntil), "%v", d.AvailableUntil)
}

// Around the clock all week: available with no known end.
func TestAlwaysOpenScheduleHasNoEnd(t *testing.T) {
	s := schedule(t, "UTC", map[string][]string{"mon-sun": {"00:00-24:00"}})
	d := availability.Decide(time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC), nil, s)
	assert.Equal(t, availability.Decision{Available: true}, d)
}

// Holidays close whole local dates: the next opening skips them (also a run
// across a weekend), and a night range starting the evening before is cut at
// midnight.
func TestHolidays(t *testing.T) {
	ber := zone(t, "Europe/Berlin")
	s := schedule(t, "Europe/Berlin", map[string][]string{"mon-fri": {"09:00-17:00"}},
		"2026-12-24", "2026-12-25", "2026-12-28", "2026-12-25")
	// Wednesday 2026-12-23 after hours: Thu 24, Fri 25 holidays, weekend, Mon 28 holiday → Tue 29.
	d := availability.Decide(at(ber, 2026, 12, 23, 18, 0), nil, s)
	require.False(t, d.Available)
	assert.True(t, at(ber, 2026, 12, 29, 9, 0).Equal(d.NextOpen), "%v", d.NextOpen)
	// During a holiday it is closed although the weekday has hours.
	d = availability.Decide(at(ber, 2026, 12, 24, 10, 0), nil, s)
	assert.False(t, d.Available)

	night := schedule(t, "Europe/Berlin", map[string][]string{"mon-sun": {"20:00-04:00"}}, "2026-12-25")
	d = availability.Decide(at(ber, 2026, 12, 24, 21, 0), nil, night)
	require.True(t, d.Available)
	assert.True(t, at(ber, 2026, 12, 25, 0, 0).Equal(d.AvailableUntil), "cut at the holiday's midnight: %v", d.AvailableUntil)
	d = availability.Decide(at(ber, 2026, 12, 25, 1, 0), nil, night)
	require.False(t, d.Available)
	assert.True(t, at(ber, 2026, 12, 26, 0, 0).Equal(d.NextOpen), "the 25th's night range reopens after the holiday: %v", d.NextOpen)
	// A holiday long past or far ahead changes nothing today.
	d = availability.Decide(at(ber, 2026, 12, 21, 10, 0), nil, schedule(t, "Europe/Berlin",
		map[string][]string{"mon-fri": {"09:00-17:00"}}, "2020-12-21", "2030-12-21"))
	assert.True(t, d.Available)
}

// Daylight saving time: ranges are wall-clock time, so a window across the
// change is an hour shorter (spring) or longer (autumn); a wall time in the
// spring gap moves forward by the gap, a repeated one is its first occurrence.
func TestDaylightSavingTransitions(t *testing.T) {
	ny := zone(t, "America/New_York")
	ber := zone(t, "Europe/Berlin")

	// 2026-03-08: New York springs forward at 02:00 to 03:00.
	s := schedule(t, "America/New_York", map[string][]string{"sun": {"01:00-04:00"}})
	d := availability.Decide(at(ny, 2026, 3, 8, 1, 30), nil, s)
	require.True(t, d.Available)
	assert.Equal(t, 2*time.Hour, d.AvailableUntil.Sub(time.Date(2026, 3, 8, 6, 0, 0, 0, time.UTC)), "01:00 EST to 04:00 EDT")
	// 2026-11-01: New York falls back at 02:00 to 01:00.
	d = availability.Decide(time.Date(2026, 11, 1, 5, 0, 0, 0, time.UTC), nil, schedule(t, "America/New_York", map[string][]string{"sun": {"00:00-04:00"}}))
	require.True(t, d.Available)
	assert.Equal(t, time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC), d.AvailableUntil.UTC(), "04:00 EST, five hours after 00:00 EDT")

	// An opening inside the spring gap (02:30 does not exist) opens at 03:30 EDT, in both zones.
	gap := schedule(t, "America/New_York", map[string][]string{"sun": {"02:30-05:00"}})
	d = availability.Decide(at(ny, 2026, 3, 8, 0, 0), nil, gap)
	assert.Equal(t, time.Date(2026, 3, 8, 7, 30, 0, 0, time.UTC), d.NextOpen.UTC())
	gapBer := schedule(t, "Europe/Berlin", map[string][]string{"sun": {"02:30-05:00"}})
	d = availability.Decide(at(ber, 2026, 3, 29, 0, 0), nil, gapBer)
	assert.Equal(t, time.Date(2026, 3, 29, 1, 30, 0, 0, time.UTC), d.NextOpen.UTC(), "03:30 CEST")

	// A repeated wall time (01:30 in New York, 02:30 in Berlin) is its first occurrence.
	d = availability.Decide(at(ny, 2026, 11, 1, 0, 0), nil, schedule(t, "America/New_York", map[string][]string{"sun": {"01:30-03:00"}}))
	assert.Equal(t, time.Date(2026, 11, 1, 5, 30, 0, 0, time.UTC), d.NextOpen.UTC(), "01:30 EDT")
	d = availability.Decide(at(ber, 2026, 10, 25, 0, 0), nil, schedule(t, "Europe/Berlin", map[string][]string{"sun": {"02:30-05:00"}}))
	assert.Equal(t, time.Date(2026, 10, 25, 0, 30, 0, 0, time.UTC), d.NextOpen.UTC(), "02:30 CEST")

	// A whole day is 23 hours in spring and 25 in autumn.
	day := schedule(t, "Europe/Berlin", map[string][]string{"sun": {"00:00-24:00"}})
	d = availability.Decide(at(ber, 2026, 3, 29, 0, 0), nil, day)
	assert.Equal(t, 23*time.Hour, d.AvailableUntil.Sub(at(ber, 2026, 3, 29, 0, 0)))
	d = availability.Decide(at(ber, 2026, 10, 25, 0, 0), nil, day)
	assert.Equal(t, 25*time.Hour, d.AvailableUntil.Sub(at(ber, 2026, 10, 25, 0, 0)))
}

func TestParseScheduleErrors(t *testing.T) {
	ok := map[string][]string{"mon": {"09:00-17:00"}}
	for _, c := range []struct {
		spec availability.ScheduleSpec
		want string
	}{
		{availability.ScheduleSpec{Weekly: ok}, "time_zone: is required"},
		{availability.ScheduleSpec{TimeZone: "Mars/Olympus", Weekly: ok}, `time_zone: "Mars/Olympus" is not an IANA time zone`},
		{availability.ScheduleSpec{TimeZone: "Local", Weekly: ok}, "time_zone"},
		{availability.ScheduleSpec{TimeZone: "UTC"}, "weekly: must list at least one day"},
		{availability.ScheduleSpec{TimeZone: "UTC", Weekly: map[string][]string{"monday": {"09:00-17:00"}}}, "weekly.monday: is not a day"},
		{availability.ScheduleSpec{TimeZone: "UTC", Weekly: map[string][]string{"fri-mon": {"09:00-17:00"}}}, "weekly.fri-mon: a range of days must run forward"},
		{availability.ScheduleSpec{TimeZone: "UTC", Weekly: map[string][]string{"mon": {}}}, "weekly.mon: lists no opening range"},
		{availability.ScheduleSpec{TimeZone: "UTC", Weekly: map[string][]string{"mon": {"9-17"}}}, `weekly.mon: "9-17" is not an opening range`},
		{availability.ScheduleSpec{TimeZone: "UTC", Weekly: map[string][]string{"mon": {"09:00-24:30"}}}, "is not an opening range"},
		{availability.ScheduleSpec{TimeZone: "UTC", Weekly: map[string][]string{"mon": {"24:00-02:00"}}}, "is not an opening range"},
		{availability.ScheduleSpec{TimeZone: "UTC", Weekly: map[string][]string{"mon": {"09:60-10:00"}}}, "is not an opening range"},
		{availability.ScheduleSpec{TimeZone: "UTC", Weekly: map[string][]string{"mon": {"09:00-09:00"}}}, "opens and closes at the same time"},
		{availability.ScheduleSpec{TimeZone: "UTC", Weekly: ok, Holidays: []string{"25.12.2026"}}, `holidays: "25.12.2026" is not a date`},
	} {
		_, err := availability.ParseSchedule(c.spec)
		if assert.Error(t, err, c.want) {
			assert.Contains(t, err.Error(), c.want)
			assert.NotContains(t, err.Error(), "\n")
		}
	}
	// Day names are case-insensitive; sat-sun is a forward range.
	_, err := availability.ParseSchedule(availability.ScheduleSpec{TimeZone: "UTC", Weekly: map[string][]string{"SAT-Sun": {"10:00-14:00"}}})
	assert.NoError(t, err)
}

// Answers beyond the first two weeks: an opening after a month of holidays,
// and the end of a long Salesforce window cut by a holiday three weeks ahead.
func TestAnswersBeyondTwoWeeks(t *testing.T) {
	var holidays []string
	for d := 1; d <= 31; d++ {
		holidays = append(holidays, time.Date(2026, 12, d, 0, 0, 0, 0, time.UTC).Format(time.DateOnly))
	}
	s := schedule(t, "UTC", map[string][]string{"mon-fri": {"09:00-17:00"}}, holidays...)
	d := availability.Decide(time.Date(2026, 11, 30, 18, 0, 0, 0, time.UTC), nil, s)
	assert.Equal(t, availability.Decision{NextOpen: time.Date(2027, 1, 1, 9, 0, 0, 0, time.UTC)}, d)

	allDay := schedule(t, "UTC", map[string][]string{"mon-sun": {"00:00-24:00"}}, "2026-12-21")
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	h := &availability.Hours{Windows: []availability.Window{{Start: now.Add(-time.Hour), End: now.Add(60 * 24 * time.Hour)}}}
	d = availability.Decide(now, h, allDay)
	assert.Equal(t, availability.Decision{Available: true, AvailableUntil: time.Date(2026, 12, 21, 0, 0, 0, 0, time.UTC)}, d)
	d = availability.Decide(now, nil, allDay)
	assert.Equal(t, availability.Decision{Available: true, AvailableUntil: time.Date(2026, 12, 21, 0, 0, 0, 0, time.UTC)}, d)
}
