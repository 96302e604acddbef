package soak

import (
	"strings"
	"testing"
	"time"

	"github.com/liveagent-bridge/liveagent/miaw/emulator"
)

func TestCompareSequences(t *testing.T) {
	exp := []string{"a", "b", "c", "d", "e"}
	cases := []struct {
		name     string
		received []string
		want     SequenceDiff
	}{
		{"exact", []string{"a", "b", "c", "d", "e"}, SequenceDiff{Expected: 5, Received: 5}},
		{"lost", []string{"a", "c", "e"}, SequenceDiff{Expected: 5, Received: 3, Lost: 2}},
		{"duplicated", []string{"a", "b", "b", "c", "d", "e", "b"}, SequenceDiff{Expected: 5, Received: 5, Duplicated: 2}},
		{"swapped", []string{"a", "c", "b", "d", "e"}, SequenceDiff{Expected: 5, Received: 5, OutOfOrder: 1}},
		{"last first", []string{"e", "a", "b", "c", "d"}, SequenceDiff{Expected: 5, Received: 5, OutOfOrder: 1}},
		{"reversed", []string{"e", "d", "c", "b", "a"}, SequenceDiff{Expected: 5, Received: 5, OutOfOrder: 4}},
		{"unexpected", []string{"a", "x", "b", "c", "d", "e"}, SequenceDiff{Expected: 5, Received: 5, Unexpected: 1}},
		{"nothing", nil, SequenceDiff{Expected: 5, Lost: 5}},
		{"mixed", []string{"b", "a", "a", "z"}, SequenceDiff{Expected: 5, Received: 2, Lost: 3, Duplicated: 1, OutOfOrder: 1, Unexpected: 1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := CompareSequences(exp, tc.received)
			if got != tc.want {
				t.Fatalf("CompareSequences(%v) = %+v, want %+v", tc.received, got, tc.want)
			}
			if got.Clean() != (tc.name == "exact") {
				t.Fatalf("Clean() = %v for %s", got.Clean(), tc.name)
			}
		})
	}
}

func TestKillDelaySummaryNamesTheWorstKill(t *testing.T) {
	if got := killDelaySummary(nil); got != "" {
		t.Fatalf("no kills: %q", got)
	}
	got := killDelaySummary([]FaultDelay{
		{Messages: 3, MaxDelay: 2 * time.Second, Offset: 10 * time.Second, Slowest: "a"},
		{Messages: 4, MaxDelay: 11500 * time.Millisecond, Offset: 40 * time.Second, Slowest: "b"},
	})
	want := "7 messages in flight across 2 kills, longest 11.5s (kill at +40s; b)"
	if got != want {
		t.Fatalf("summary = %q, want %q", got, want)
	}
}

// A message in flight across two kills adds their costs; the delay of one
// kill alone counts only the messages that met no other.
func TestKillDelaysSeparateMessagesThatMetOneKillOnly(t *testing.T) {
	t0 := time.Now()
	c := &chaosLoop{}
	c.recordKill(t0)
	c.recordKill(t0.Add(10 * time.Second))
	o := &sessionOutcome{userID: "u", timings: []msgTiming{
		{token: "both", sent: t0.Add(-time.Second), arrived: t0.Add(24 * time.Second)},       // met both kills: 25 s
		{token: "first", sent: t0.Add(-2 * time.Second), arrived: t0.Add(6 * time.Second)},   // met the first only: 8 s
		{token: "second", sent: t0.Add(12 * time.Second), arrived: t0.Add(15 * time.Second)}, // met the second only: 3 s
	}}
	kills := c.killDelays([]*sessionOutcome{o})
	if len(kills) != 2 {
		t.Fatalf("%d kills", len(kills))
	}
	if kills[0].MaxDelay != 25*time.Second || kills[0].MaxDelayAlone != 8*time.Second {
		t.Errorf("first kill: longest %s, alone %s; want 25s and 8s", kills[0].MaxDelay, kills[0].MaxDelayAlone)
	}
	if kills[1].MaxDelayAlone != 3*time.Second {
		t.Errorf("second kill alone: %s, want 3s", kills[1].MaxDelayAlone)
	}
	a, ok := slowestKillAlone(kills)
	if !ok || a.MaxDelayAlone != 8*time.Second || !strings.Contains(a.SlowestAlone, `"first"`) {
		t.Errorf("slowest alone: %+v", a)
	}
}

// A kill's streams are back when each session that had one before it has
// one accepted after it; sessions that never had one, or not since, are
// not counted.
func TestResumesMeasureEachKillsStreams(t *testing.T) {
	t0 := time.Now()
	c := &chaosLoop{streamOpens: func(at time.Time) map[string]emulator.StreamOpen {
		before := at.Add(-time.Minute)
		if at.Equal(t0) {
			return map[string]emulator.StreamOpen{
				"conv-a": {Before: before, After: at.Add(6 * time.Second)},
				"conv-b": {Before: before, After: at.Add(9 * time.Second)},
				"conv-c": {Before: before},                  // ended before its stream came back
				"conv-d": {After: at.Add(30 * time.Second)}, // opened after the kill: not cut by it
			}
		}
		return map[string]emulator.StreamOpen{"conv-a": {Before: before, After: at.Add(2 * time.Second)}}
	}}
	c.recordKill(t0)
	c.recordKill(t0.Add(20 * time.Second))
	var outcomes []*sessionOutcome
	for _, u := range []string{"a", "b", "c", "d"} {
		outcomes = append(outcomes, &sessionOutcome{userID: "user-" + u, conversationID: "conv-" + u})
	}
	kills := c.killDelays(outcomes)
	c.resumes(kills, outcomes)
	if kills[0].StreamsResumed != 2 || kills[0].MaxResume != 9*time.Second || kills[0].SlowestResume != "user-b" {
		t.Errorf("first kill: %d streams back, longest %s (%s); want 2, 9s, user-b",
			kills[0].StreamsResumed, kills[0].MaxResume, kills[0].SlowestResume)
	}
	if kills[1].StreamsResumed != 1 || kills[1].MaxResume != 2*time.Second {
		t.Errorf("second kill: %d streams back, longest %s; want 1, 2s", kills[1].StreamsResumed, kills[1].MaxResume)
	}
	kills[0].Offset, kills[1].Offset = 10*time.Second, 30*time.Second
	want := "3 streams cut by 2 kills, longest back after 9s (aim 15s; kill at +10s, user user-b); per kill: 9s 2s"
	if got := resumeSummary(kills); got != want {
		t.Errorf("summary = %q, want %q", got, want)
	}
	if got := resumeSummary(nil); got != "" {
		t.Errorf("no kills: %q", got)
	}
}
