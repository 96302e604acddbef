package bench

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// Latency summarises latency samples.
type Latency struct {
	Samples       int           // successful samples
	Lost          int           // samples that never completed before their deadline
	Errors        int           // samples whose send failed
	P50, P95, P99 time.Duration // nearest-rank percentiles; zero when Samples == 0
	Max           time.Duration
}

// summarize computes nearest-rank percentiles of samples (which it sorts).
func summarize(samples []time.Duration, lost, errs int) Latency {
	l := Latency{Samples: len(samples), Lost: lost, Errors: errs}
	if len(samples) == 0 {
		return l
	}
	slices.Sort(samples)
	l.P50 = percentile(samples, 50)
	l.P95 = percentile(samples, 95)
	l.P99 = percentile(samples, 99)
	l.Max = samples[len(samples)-1]
	return l
}

// percentile is the nearest-rank p-th percentile of sorted (non-empty).
func percentile(sorted []time.Duration, p float64) time.Duration {
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// String renders "p50 / p95 / p99" in milliseconds, or "n/a".
func (l Latency) String() string {
	if l.Samples == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%s / %s / %s", ms(l.P50), ms(l.P95), ms(l.P99))
}

// ms renders a duration in milliseconds with a precision that suits it.
func ms(d time.Duration) string {
	v := float64(d) / float64(time.Millisecond)
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f ms", v)
	case v >= 10:
		return fmt.Sprintf("%.1f ms", v)
	default:
		return fmt.Sprintf("%.2f ms", v)
	}
}

// ratio renders a/b as "×1.23", or "n/a" when either is missing.
func ratio(a, b time.Duration) string {
	if a <= 0 || b <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("×%.1f", float64(a)/float64(b))
}

// counterSample is a cumulative counter read at one instant.
type counterSample struct {
	At    time.Time
	Value int64
}

// maxInWindow returns the largest increase of a cumulative counter over any
// window of length w whose end is a sample in [from, to] (the window may
// start before from). samples must be in time order and the counter must
// start at zero: a window reaching before the first sample counts from zero.
// It is exact at sample resolution and errs high: an increase is attributed
// to the sample that first shows it, and a window's base is the newest sample
// at or before the window's start.
func maxInWindow(samples []counterSample, w time.Duration, from, to time.Time) int64 {
	var best int64
	i := 0
	for j, s := range samples {
		if s.At.Before(from) || s.At.After(to) {
			continue
		}
		// Base: the newest sample at or before s.At - w (or the first one).
		for i+1 < j && !samples[i+1].At.After(s.At.Add(-w)) {
			i++
		}
		base := samples[i].Value
		if samples[i].At.After(s.At.Add(-w)) { // window reaches before the first sample
			base = 0
		}
		if d := s.Value - base; d > best {
			best = d
		}
	}
	return best
}
