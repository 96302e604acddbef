package availability

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// How far around now a schedule is searched: back far enough for a range
// that started the day before and is still open, ahead far enough to find the
// next opening past a long run of holidays.
const (
	searchBack  = 48 * time.Hour
	searchFirst = 15 * 24 * time.Hour
	searchAhead = 400 * 24 * time.Hour
)

// ScheduleSpec is a schedule as configured (see the package doc).
type ScheduleSpec struct {
	// Always makes the schedule open at all times, whatever Salesforce's
	// business hours say: its topics are always available (see the package
	// doc). Weekly and Holidays must then be empty, and TimeZone may be.
	Always bool
	// TimeZone is an IANA time zone name, e.g. "Europe/Berlin". Required
	// unless Always.
	TimeZone string
	// Weekly maps a day ("mon" … "sun") or a range of days ("mon-fri") to
	// opening ranges "HH:MM-HH:MM". A day listed more than once has all its
	// ranges; a day not listed is closed.
	Weekly map[string][]string
	// Holidays are local dates ("2026-12-25") on which it is closed all day.
	Holidays []string
}

// Schedule is a parsed ScheduleSpec. It is immutable and safe for concurrent
// use.
type Schedule struct {
	always   bool // open at all times, overriding Salesforce's hours
	loc      *time.Location
	days     [7][]clockRange // by time.Weekday
	holidays []date          // sorted, unique
}

// clockRange is an opening range in minutes after local midnight. end is in
// (0, 1440]; end <= start means the range ends on the next day.
type clockRange struct{ start, end int }

type date struct {
	y int
	m time.Month
	d int
}

var weekdays = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

// ParseSchedule checks spec and returns its Schedule. An error names the
// part at fault, e.g. `weekly.mon-fri: "9-17" is not HH:MM-HH:MM`.
func ParseSchedule(spec ScheduleSpec) (*Schedule, error) {
	if spec.Always {
		return parseAlways(spec)
	}
	if strings.TrimSpace(spec.TimeZone) == "" {
		return nil, errors.New("time_zone: is required (an IANA name like Europe/Berlin)")
	}
	loc, err := time.LoadLocation(spec.TimeZone)
	if err != nil || strings.EqualFold(spec.TimeZone, "local") {
		return nil, fmt.Errorf("time_zone: %q is not an IANA time zone name (like Europe/Berlin)", spec.TimeZone)
	}
	s := &Schedule{loc: loc}
	if len(spec.Weekly) == 0 {
		return nil, errors.New("weekly: must list at least one day with opening ranges (e.g. mon-fri: 09:00-17:00)")
	}
	keys := make([]string, 0, len(spec.Weekly))
	for k := range spec.Weekly {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, key := range keys {
		days, err := parseDays(key)
		if err != nil {
			return nil, fmt.Errorf("weekly.%s: %w", key, err)
		}
		if len(spec.Weekly[key]) == 0 {
			return nil, fmt.Errorf("weekly.%s: lists no opening range (leave a closed day out)", key)
		}
		for _, raw := range spec.Weekly[key] {
			r, err := parseRange(raw)
			if err != nil {
				return nil, fmt.Errorf("weekly.%s: %w", key, err)
			}
			for _, d := range days {
				s.days[d] = append(s.days[d], r)
			}
		}
	}
	for _, raw := range spec.Holidays {
		t, err := time.Parse(time.DateOnly, strings.TrimSpace(raw))
		if err != nil {
			return nil, fmt.Errorf("holidays: %q is not a date like 2026-12-25", raw)
		}
		s.holidays = append(s.holidays, date{t.Year(), t.Month(), t.Day()})
	}
	slices.SortFunc(s.holidays, func(a, b date) int { return a.compare(b) })
	s.holidays = slices.Compact(s.holidays)
	return s, nil
}

// parseAlways checks an always-open spec: it has no hours to parse, and
// hours given with it would be silently overridden, so they are refused.
func parseAlways(spec ScheduleSpec) (*Schedule, error) {
	if len(spec.Weekly) > 0 {
		return nil, errors.New("weekly: must be empty with always: true (the topics are available at all times)")
	}
	if len(spec.Holidays) > 0 {
		return nil, errors.New("holidays: must be empty with always: true (the topics are available at all times)")
	}
	s := &Schedule{always: true, loc: time.UTC}
	if tz := strings.TrimSpace(spec.TimeZone); tz != "" {
		loc, err := time.LoadLocation(tz)
		if err != nil || strings.EqualFold(tz, "local") {
			return nil, fmt.Errorf("time_zone: %q is not an IANA time zone name (like Europe/Berlin)", spec.TimeZone)
		}
		s.loc = loc
	}
	return s, nil
}

// Always reports whether s is open at all times, overriding Salesforce's
// business hours (ScheduleSpec.Always). A nil schedule is not.
func (s *Schedule) Always() bool { return s != nil && s.always }

// parseDays reads "mon" or "mon-fri" (in week order, Monday first).
func parseDays(key string) ([]time.Weekday, error) {
	from, to, isRange := strings.Cut(strings.ToLower(strings.TrimSpace(key)), "-")
	first, ok1 := weekdays[from]
	last, ok2 := weekdays[to]
	if !isRange {
		last, ok2 = first, ok1
	}
	if !ok1 || !ok2 {
		return nil, errors.New("is not a day (mon, tue, wed, thu, fri, sat, sun) or a range of days like mon-fri")
	}
	// Monday-first order: Sunday is the last day of the week.
	pos := func(d time.Weekday) int { return (int(d) + 6) % 7 }
	if pos(last) < pos(first) {
		return nil, errors.New("a range of days must run forward from Monday to Sunday, like mon-fri or sat-sun")
	}
	var out []time.Weekday
	for p := pos(first); p <= pos(last); p++ {
		out = append(out, time.Weekday((p+1)%7))
	}
	return out, nil
}

// parseRange reads "HH:MM-HH:MM" (end 24:00 allowed).
func parseRange(raw string) (clockRange, error) {
	bad := fmt.Errorf("%q is not an opening range HH:MM-HH:MM (like 09:00-17:00, 22:00-06:00 or 00:00-24:00)", raw)
	a, b, ok := strings.Cut(strings.TrimSpace(raw), "-")
	if !ok {
		return clockRange{}, bad
	}
	start, ok1 := parseClock(a)
	end, ok2 := parseClock(b)
	if !ok1 || !ok2 || start == 24*60 {
		return clockRange{}, bad
	}
	if end == 0 {
		end = 24 * 60 // "22:00-00:00" closes at midnight
	}
	if start == end {
		return clockRange{}, fmt.Errorf("%q opens and closes at the same time (use 00:00-24:00 for a whole day)", raw)
	}
	return clockRange{start: start, end: end}, nil
}

func parseClock(s string) (int, bool) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok || len(h) != 2 || len(m) != 2 {
		return 0, false
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hh < 0 || mm < 0 || mm > 59 || hh > 24 || (hh == 24 && mm != 0) {
		return 0, false
	}
	return hh*60 + mm, true
}

// windows returns the schedule's open windows overlapping [from, to), sorted
// and merged, holidays removed. A window still open at to ends at forever.
func (s *Schedule) windows(from, to time.Time) []Window {
	var open []Window
	first := dateOf(from.In(s.loc)).add(-1)
	last := dateOf(to.In(s.loc))
	for d := first; d.compare(last) <= 0; d = d.add(1) {
		for _, r := range s.days[d.weekday()] {
			start := s.at(d, r.start)
			endDay := d
			if r.end <= r.start {
				endDay = d.add(1)
			}
			end := s.at(endDay, r.end)
			if end.After(start) {
				open = append(open, Window{Start: start, End: end})
			}
		}
	}
	var closed []Window
	for _, h := range s.holidays {
		if h.compare(first) >= 0 && h.compare(last.add(1)) <= 0 {
			closed = append(closed, Window{Start: s.at(h, 0), End: s.at(h, 24*60)})
		}
	}
	open = subtract(normalize(open), normalize(closed))
	var out []Window
	for _, w := range open {
		if !w.End.After(from) || !w.Start.Before(to) {
			continue
		}
		if !w.End.Before(to) {
			w.End = forever
		}
		out = append(out, w)
	}
	return out
}

// at returns the instant of the wall time minute (0…1440) on local date d.
// A wall time that does not exist (a spring-forward gap) is read with the
// offset before the change, which moves it forward by the gap; one that
// exists twice (fall-back) is its first occurrence. (time.Date does neither
// consistently across zones.)
func (s *Schedule) at(d date, minute int) time.Time {
	civil := time.Date(d.y, d.m, d.d, 0, minute, 0, 0, time.UTC)
	_, before := civil.Add(-24 * time.Hour).In(s.loc).Zone()
	_, after := civil.Add(24 * time.Hour).In(s.loc).Zone()
	first := civil.Add(-time.Duration(before) * time.Second).In(s.loc)
	if before == after {
		return first
	}
	second := civil.Add(-time.Duration(after) * time.Second).In(s.loc)
	okFirst, okSecond := sameWall(first, civil), sameWall(second, civil)
	switch {
	case okFirst && okSecond:
		return earlier(first, second)
	case okSecond:
		return second
	default: // okFirst, or a gap: the offset before the change
		return first
	}
}

// sameWall reports whether t (in its location) reads as the wall time civil
// (expressed in UTC).
func sameWall(t, civil time.Time) bool {
	y, m, d := t.Date()
	return time.Date(y, m, d, t.Hour(), t.Minute(), t.Second(), 0, time.UTC).Equal(civil)
}

func dateOf(t time.Time) date {
	y, m, d := t.Date()
	return date{y, m, d}
}

func (d date) add(days int) date {
	return dateOf(time.Date(d.y, d.m, d.d+days, 12, 0, 0, 0, time.UTC))
}

func (d date) weekday() time.Weekday {
	return time.Date(d.y, d.m, d.d, 12, 0, 0, 0, time.UTC).Weekday()
}

func (d date) compare(o date) int {
	switch {
	case d.y != o.y:
		return d.y - o.y
	case d.m != o.m:
		return int(d.m) - int(o.m)
	}
	return d.d - o.d
}
