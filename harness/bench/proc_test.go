package bench

import (
	"os"
	"strings"
	"testing"
	"time"
)

func TestParseStatus(t *testing.T) {
	status := "Name:\tliveagent-worker\nVmPeak:\t 1300000 kB\nVmHWM:\t   51200 kB\nVmRSS:\t   40960 kB\nThreads:\t12\n"
	var s procSample
	if err := parseStatus([]byte(status), &s); err != nil {
		t.Fatal(err)
	}
	if s.RSSBytes != 40960<<10 || s.HWMBytes != 51200<<10 || s.Threads != 12 {
		t.Fatalf("parsed %+v", s)
	}
	if err := parseStatus([]byte("Name:\tx\n"), &s); err == nil || !strings.Contains(err.Error(), "VmRSS") {
		t.Fatalf("status without VmRSS: err = %v", err)
	}
}

func TestParseStatCPU(t *testing.T) {
	// The command name contains spaces and a ')' to make sure fields are
	// counted after the last one.
	stat := "4242 (my worker) x) S 1 4242 4242 0 -1 4194560 500 0 0 0 250 130 0 0 20 0 12 0 100 1000000 2500 18446744073709551615\n"
	cpu, err := parseStatCPU([]byte(stat))
	if err != nil {
		t.Fatal(err)
	}
	if want := 3800 * time.Millisecond; cpu != want { // (250+130) ticks at 100 Hz
		t.Fatalf("cpu = %v, want %v", cpu, want)
	}
	if _, err := parseStatCPU([]byte("4242 no parens")); err == nil {
		t.Fatal("stat without a command name parsed")
	}
	if _, err := parseStatCPU([]byte("1 (x) S 1 2")); err == nil {
		t.Fatal("short stat parsed")
	}
}

func TestReadProcSelf(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc on this system")
	}
	// Burn a little CPU so utime is very likely above zero.
	deadline := time.Now().Add(30 * time.Millisecond)
	for x := 0; time.Now().Before(deadline); x++ {
		_ = x * x
	}
	s, err := readProc(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if s.RSSBytes <= 0 || s.HWMBytes < s.RSSBytes || s.Threads < 1 {
		t.Fatalf("implausible sample of this process: %+v", s)
	}
	if _, err := readProc(-1); err == nil {
		t.Fatal("reading a nonexistent pid succeeded")
	}
}
