package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Where a worker's memory goes: the Go heap in use and the goroutines per
// open session (from the worker's Prometheus Go collector), and the heap
// profile with all sessions open (worker.pprof), saved beside the worker log
// with its top entries in the report.

// heapTopLines is how many entries of `go tool pprof -top` the report keeps.
const heapTopLines = 15

// Go collector metrics of the worker's /metrics.
var (
	heapInuseNames  = []string{"go_memstats_heap_inuse_bytes"}
	goroutinesNames = []string{"go_goroutines"}
	stackInuseNames = []string{"go_memstats_stack_inuse_bytes"}
)

// saveHeapProfile fetches the worker's in-use heap profile (after a GC) to
// dir and returns its path and the top entries by in-use bytes.
func saveHeapProfile(ctx context.Context, hc *http.Client, metricsURL, dir, name string) (string, []string, error) {
	url := strings.TrimSuffix(metricsURL, "/metrics") + "/debug/pprof/heap?gc=1"
	fetchCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(fetchCtx, http.MethodGet, url, nil)
	if err != nil {
		return "", nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return "", nil, fmt.Errorf("heap profile: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", nil, fmt.Errorf("heap profile: %s", resp.Status)
	}
	path := filepath.Join(dir, name)
	f, err := os.Create(path)
	if err != nil {
		return "", nil, err
	}
	if _, err := io.Copy(f, io.LimitReader(resp.Body, 256<<20)); err != nil {
		f.Close()
		return "", nil, fmt.Errorf("heap profile: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", nil, err
	}
	// pprof has a deadline of its own: on a loaded machine with a cold
	// build cache `go tool pprof` may first spend seconds building itself.
	pprofCtx, cancelPprof := context.WithTimeout(ctx, 3*time.Minute)
	defer cancelPprof()
	out, err := exec.CommandContext(pprofCtx, "go", "tool", "pprof", "-top", "-sample_index=inuse_space",
		fmt.Sprintf("-nodecount=%d", heapTopLines), path).Output()
	if err != nil {
		return path, nil, fmt.Errorf("go tool pprof: %w", err)
	}
	return path, pprofTop(string(out)), nil
}

// pprofTop keeps the summary line and the entries of `go tool pprof -top`
// output ("Showing nodes accounting for …" and the table rows).
func pprofTop(out string) []string {
	var lines []string
	table := false
	for line := range strings.SplitSeq(out, "\n") {
		line = strings.TrimRight(line, " ")
		switch {
		case strings.HasPrefix(line, "Showing nodes accounting for"):
			lines = append(lines, line)
		case strings.HasPrefix(strings.TrimSpace(line), "flat "):
			table = true
			lines = append(lines, strings.TrimSpace(line))
		case table && strings.TrimSpace(line) != "":
			lines = append(lines, strings.TrimSpace(line))
		}
	}
	return lines
}
