package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// promSample is one line of the Prometheus text exposition format.
type promSample struct {
	Name   string
	Labels map[string]string
	Value  float64
}

// parsePromText parses the Prometheus text format (version 0.0.4). Comment
// and malformed lines are skipped: a benchmark must not fail on a metric it
// does not read.
func parsePromText(r io.Reader) ([]promSample, error) {
	var out []promSample
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		if s, ok := parsePromLine(line); ok {
			out = append(out, s)
		}
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("read metrics: %w", err)
	}
	return out, nil
}

func parsePromLine(line string) (promSample, bool) {
	s := promSample{Labels: map[string]string{}}
	i := strings.IndexAny(line, "{ \t")
	if i <= 0 {
		return s, false
	}
	s.Name = line[:i]
	rest := line[i:]
	if rest[0] == '{' {
		end, ok := parseLabels(rest, s.Labels)
		if !ok {
			return s, false
		}
		rest = rest[end:]
	}
	fields := strings.Fields(rest)
	if len(fields) == 0 {
		return s, false
	}
	v, err := strconv.ParseFloat(fields[0], 64)
	if err != nil {
		return s, false
	}
	s.Value = v
	return s, true
}

// parseLabels parses `{a="x",b="y\"z"}` at the start of s into into and
// returns the index just after the closing brace.
func parseLabels(s string, into map[string]string) (int, bool) {
	i := 1 // after '{'
	for {
		for i < len(s) && (s[i] == ' ' || s[i] == ',') {
			i++
		}
		if i >= len(s) {
			return 0, false
		}
		if s[i] == '}' {
			return i + 1, true
		}
		eq := strings.IndexByte(s[i:], '=')
		if eq < 0 {
			return 0, false
		}
		name := strings.TrimSpace(s[i : i+eq])
		i += eq + 1
		if i >= len(s) || s[i] != '"' {
			return 0, false
		}
		i++
		var val strings.Builder
		for {
			if i >= len(s) {
				return 0, false
			}
			c := s[i]
			if c == '\\' && i+1 < len(s) {
				switch s[i+1] {
				case 'n':
					val.WriteByte('\n')
				default:
					val.WriteByte(s[i+1])
				}
				i += 2
				continue
			}
			if c == '"' {
				i++
				break
			}
			val.WriteByte(c)
			i++
		}
		into[name] = val.String()
	}
}

// sumMetric adds the values of every sample named one of names whose labels
// include all of match.
func sumMetric(samples []promSample, names []string, match map[string]string) (float64, bool) {
	var sum float64
	found := false
	for _, s := range samples {
		named := false
		for _, n := range names {
			if s.Name == n {
				named = true
				break
			}
		}
		if !named {
			continue
		}
		ok := true
		for k, v := range match {
			if s.Labels[k] != v {
				ok = false
				break
			}
		}
		if ok {
			sum += s.Value
			found = true
		}
	}
	return sum, found
}

// workerCounters are the worker metrics the benchmark reads.
type workerCounters struct {
	OK         bool  // the endpoint answered with the SDK request counter
	Heartbeats int64 // RecordActivityTaskHeartbeat calls
	Signals    int64 // SignalWorkflowExecution calls
	// Go runtime figures of the worker process (heap.go); 0 when absent.
	HeapInuse  float64 // bytes
	Goroutines float64
	StackInuse float64 // bytes of goroutine stacks
}

// The SDK counts every Temporal call in temporal_request (tally) with its
// gRPC operation as a label; exporters may add the _total suffix.
var requestCounterNames = []string{"temporal_request", "temporal_request_total"}

// scrapeWorker reads the worker's /metrics endpoint.
func scrapeWorker(ctx context.Context, hc *http.Client, url string) (workerCounters, error) {
	var wc workerCounters
	if url == "" {
		return wc, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return wc, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return wc, fmt.Errorf("scrape worker metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return wc, fmt.Errorf("scrape worker metrics: %s", resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return wc, fmt.Errorf("scrape worker metrics: %w", err)
	}
	samples, err := parsePromText(bytes.NewReader(body))
	if err != nil {
		return wc, err
	}
	hb, ok1 := sumMetric(samples, requestCounterNames, map[string]string{"operation": "RecordActivityTaskHeartbeat"})
	sig, ok2 := sumMetric(samples, requestCounterNames, map[string]string{"operation": "SignalWorkflowExecution"})
	wc.HeapInuse, _ = sumMetric(samples, heapInuseNames, nil)
	wc.Goroutines, _ = sumMetric(samples, goroutinesNames, nil)
	wc.StackInuse, _ = sumMetric(samples, stackInuseNames, nil)
	_, sawRequests := sumMetric(samples, requestCounterNames, nil)
	wc.OK = sawRequests
	if ok1 {
		wc.Heartbeats = int64(hb)
	}
	if ok2 {
		wc.Signals = int64(sig)
	}
	return wc, nil
}
