package bench

import (
	"testing"
	"time"
)

func TestSummarizeNearestRank(t *testing.T) {
	var samples []time.Duration
	for i := 100; i >= 1; i-- { // unsorted on purpose
		samples = append(samples, time.Duration(i)*time.Millisecond)
	}
	l := summarize(samples, 2, 1)
	if l.Samples != 100 || l.Lost != 2 || l.Errors != 1 {
		t.Fatalf("counts = %+v", l)
	}
	if l.P50 != 50*time.Millisecond || l.P95 != 95*time.Millisecond || l.P99 != 99*time.Millisecond || l.Max != 100*time.Millisecond {
		t.Fatalf("percentiles = %v %v %v max %v, want 50/95/99 ms, max 100 ms", l.P50, l.P95, l.P99, l.Max)
	}
	if got := l.String(); got != "50.0 ms / 95.0 ms / 99.0 ms" {
		t.Fatalf("String() = %q", got)
	}
}

func TestSummarizeSmallAndEmpty(t *testing.T) {
	if got := summarize(nil, 3, 0); got.Samples != 0 || got.String() != "n/a" || got.Lost != 3 {
		t.Fatalf("empty summary = %+v (%q)", got, got.String())
	}
	one := summarize([]time.Duration{7 * time.Millisecond}, 0, 0)
	if one.P50 != 7*time.Millisecond || one.P99 != 7*time.Millisecond {
		t.Fatalf("single sample percentiles = %+v", one)
	}
	two := summarize([]time.Duration{time.Second, time.Millisecond}, 0, 0)
	if two.P50 != time.Millisecond || two.P95 != time.Second {
		t.Fatalf("two samples: p50 %v p95 %v, want 1ms and 1s", two.P50, two.P95)
	}
}

func TestRatio(t *testing.T) {
	if got := ratio(30*time.Millisecond, 10*time.Millisecond); got != "×3.0" {
		t.Fatalf("ratio = %q", got)
	}
	if got := ratio(30*time.Millisecond, 0); got != "n/a" {
		t.Fatalf("ratio with no baseline = %q", got)
	}
}

func TestMaxInWindow(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	// 3 per second for 100 s (a steady 180/min) with a burst of 18 at t=0.
	var samples []counterSample
	var v int64
	for s := 0; s <= 100; s++ {
		if s == 0 {
			v = 18
		} else {
			v += 3
		}
		samples = append(samples, counterSample{At: at(float64(s)), Value: v})
	}
	got := maxInWindow(samples, time.Minute, at(0), at(100))
	// Window ending at 60 s starts at the sample at 0 s (value 18): 180 new.
	// The burst at 0 s counts only in windows reaching before the first
	// sample, i.e. those ending before 60 s: at 59 s it is 18+177 = 195.
	if got != 195 {
		t.Fatalf("max in 60s = %d, want 195", got)
	}
	// Restricting the window ends to the steady part excludes the burst.
	if got := maxInWindow(samples, time.Minute, at(70), at(100)); got != 180 {
		t.Fatalf("max in 60s over the steady part = %d, want 180", got)
	}
	if got := maxInWindow(nil, time.Minute, at(0), at(1)); got != 0 {
		t.Fatalf("no samples = %d", got)
	}
}
