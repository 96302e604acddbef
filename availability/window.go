package availability

import (
	"slices"
	"time"
)

// Window is a span of time in which live agents are available: from Start
// (inclusive) to End (exclusive).
type Window struct {
	Start, End time.Time
}

// forever stands for "no known end" inside this package: the end of a
// schedule window still open at the end of the search horizon. Decide never
// returns it (AvailableUntil is zero instead).
var forever = time.Date(9999, time.December, 31, 0, 0, 0, 0, time.UTC)

// Decision is the answer for one topic at one moment.
type Decision struct {
	// Available is true when a live agent can be offered now.
	Available bool
	// AvailableUntil is when the current open window ends; zero when not
	// available or when no end is known.
	AvailableUntil time.Time
	// NextOpen is when the next open window starts; zero when available now
	// or when no opening is known.
	NextOpen time.Time
}

// Hours is Salesforce's answer for the deployment, as the decision uses it.
type Hours struct {
	// Unrestricted means the deployment has no business hours: open at all
	// times (Windows is then ignored).
	Unrestricted bool
	// Windows are the open windows Salesforce listed (any order, overlaps
	// allowed). None (with Unrestricted false) means closed.
	Windows []Window
}

// Decide decides availability at now. hours is Salesforce's answer (nil: not
// consulted, or unknown after a failure); schedule is the topic's schedule
// (nil: none). Agents are available when every given source is open at now,
// or at all times (with no known end) when the schedule is always open,
// whatever hours says.
func Decide(now time.Time, hours *Hours, schedule *Schedule) Decision {
	if schedule.Always() {
		return Decision{Available: true}
	}
	if schedule == nil {
		return decide(now, hours, nil, 0)
	}
	// Most answers are found within days: search a short span first, and the
	// whole year only when the answer lies beyond it (a long run of
	// holidays, a window still open at its end). A start found in the short
	// span is exact, an end only when it falls inside it.
	d := decide(now, hours, schedule, searchFirst)
	if (d.Available && !d.AvailableUntil.IsZero() && d.AvailableUntil.Before(now.Add(searchFirst))) ||
		(!d.Available && !d.NextOpen.IsZero()) {
		return d
	}
	return decide(now, hours, schedule, searchAhead)
}

// decide is Decide with the schedule searched ahead up to now+ahead.
func decide(now time.Time, hours *Hours, schedule *Schedule, ahead time.Duration) Decision {
	var sets [][]Window
	if hours != nil && !hours.Unrestricted {
		sets = append(sets, normalize(hours.Windows))
	}
	if schedule != nil {
		sets = append(sets, schedule.windows(now.Add(-searchBack), now.Add(ahead)))
	}
	if len(sets) == 0 {
		return Decision{Available: true}
	}
	open := sets[0]
	for _, s := range sets[1:] {
		open = intersect(open, s)
	}
	return decideIn(now, open)
}

// decideIn reads the decision at now off sorted, merged windows.
func decideIn(now time.Time, open []Window) Decision {
	for _, w := range open {
		switch {
		case !w.End.After(now):
			continue
		case !w.Start.After(now):
			d := Decision{Available: true}
			if w.End.Before(forever) {
				d.AvailableUntil = w.End
			}
			return d
		default:
			return Decision{NextOpen: w.Start}
		}
	}
	return Decision{}
}

// normalize returns the non-empty windows of ws sorted by start, with
// overlapping and touching windows merged. ws is not modified.
func normalize(ws []Window) []Window {
	out := make([]Window, 0, len(ws))
	for _, w := range ws {
		if w.End.After(w.Start) {
			out = append(out, w)
		}
	}
	slices.SortFunc(out, func(a, b Window) int { return a.Start.Compare(b.Start) })
	merged := out[:0]
	for _, w := range out {
		if n := len(merged); n > 0 && !w.Start.After(merged[n-1].End) {
			if w.End.After(merged[n-1].End) {
				merged[n-1].End = w.End
			}
			continue
		}
		merged = append(merged, w)
	}
	return merged
}

// intersect returns the spans covered by both a and b (each sorted and
// merged); the result is sorted and merged.
func intersect(a, b []Window) []Window {
	var out []Window
	for i, j := 0, 0; i < len(a) && j < len(b); {
		start := later(a[i].Start, b[j].Start)
		end := earlier(a[i].End, b[j].End)
		if end.After(start) {
			out = append(out, Window{Start: start, End: end})
		}
		if a[i].End.Before(b[j].End) {
			i++
		} else {
			j++
		}
	}
	return out
}

// subtract returns the spans of a not covered by b (each sorted and merged).
func subtract(a, b []Window) []Window {
	var out []Window
	j := 0
	for _, w := range a {
		for j < len(b) && !b[j].End.After(w.Start) {
			j++
		}
		start := w.Start
		for k := j; k < len(b) && b[k].Start.Before(w.End); k++ {
			if b[k].Start.After(start) {
				out = append(out, Window{Start: start, End: b[k].Start})
			}
			if b[k].End.After(start) {
				start = b[k].End
			}
		}
		if w.End.After(start) {
			out = append(out, Window{Start: start, End: w.End})
		}
	}
	return out
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
