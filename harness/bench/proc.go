package bench

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of utime/stime in /proc/<pid>/stat. It is
// 100 on every Linux architecture Go supports (the kernel ABI fixes it).
const clockTicks = 100

// procSample is what /proc says about one process at one instant.
type procSample struct {
	At       time.Time
	RSSBytes int64         // VmRSS
	HWMBytes int64         // VmHWM: peak RSS
	Threads  int           // Threads
	CPU      time.Duration // utime + stime
}

// readProc samples /proc/<pid>/status and /proc/<pid>/stat.
func readProc(pid int) (procSample, error) {
	s := procSample{At: time.Now()}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, fmt.Errorf("read process status: %w", err)
	}
	if err := parseStatus(status, &s); err != nil {
		return s, err
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return s, fmt.Errorf("read process stat: %w", err)
	}
	cpu, err := parseStatCPU(stat)
	if err != nil {
		return s, err
	}
	s.CPU = cpu
	return s, nil
}

// parseStatus reads VmRSS, VmHWM (kB) and Threads from /proc/<pid>/status.
func parseStatus(data []byte, s *procSample) error {
	found := false
	for line := range strings.SplitSeq(string(data), "\n") {
		key, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		fields := strings.Fields(value)
		if len(fields) == 0 {
			continue
		}
		n, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			continue
		}
		switch key {
		case "VmRSS":
			s.RSSBytes, found = n<<10, true
		case "VmHWM":
			s.HWMBytes = n << 10
		case "Threads":
			s.Threads = int(n)
		}
	}
	if !found {
		return errors.New("process status: no VmRSS line")
	}
	return nil
}

// parseStatCPU returns utime+stime from /proc/<pid>/stat. The command name
// (field 2) is in parentheses and may contain spaces, so fields are counted
// after the last ')'.
func parseStatCPU(data []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, errors.New("process stat: no command name")
	}
	// After ")": field 3 (state) is index 0; utime is field 14, stime 15.
	fields := strings.Fields(string(data[i+1:]))
	if len(fields) < 13 {
		return 0, fmt.Errorf("process stat: %d fields after the command name, want at least 13", len(fields))
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("process stat: utime/stime: %w", err)
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}

// loadAverage is the 1-minute load average from /proc/loadavg (-1 when
// unknown): other work on the machine shows up in the latencies.
func loadAverage() float64 {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	f := strings.Fields(string(data))
	if len(f) == 0 {
		return -1
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return -1
	}
	return v
}

// mib renders bytes as MiB.
func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// kib renders bytes as KiB.
func kib(b float64) string { return fmt.Sprintf("%.1f KiB", b/(1<<10)) }
