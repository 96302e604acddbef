package bench

import (
	"reflect"
	"strings"
	"testing"
)

func TestPprofTop(t *testing.T) {
	out := `File: liveagent-worker
Type: inuse_space
Time: 2026-11-30 05:00:00 UTC
Showing nodes accounting for 110.52MB, 94.10% of 117.45MB total
Dropped 312 nodes (cum <= 0.59MB)
Showing top 2 nodes out of 150
      flat  flat%   sum%        cum   cum%
   64.01MB 54.50% 54.50%    64.01MB 54.50%  bufio.NewReaderSize
   46.51MB 39.60% 94.10%    46.51MB 39.60%  runtime.malg

`
	want := []string{
		"Showing nodes accounting for 110.52MB, 94.10% of 117.45MB total",
		"flat  flat%   sum%        cum   cum%",
		"64.01MB 54.50% 54.50%    64.01MB 54.50%  bufio.NewReaderSize",
		"46.51MB 39.60% 94.10%    46.51MB 39.60%  runtime.malg",
	}
	if got := pprofTop(out); !reflect.DeepEqual(got, want) {
		t.Fatalf("pprofTop = %q, want %q", got, want)
	}
}

func TestScrapeReadsGoRuntimeFigures(t *testing.T) {
	samples, err := parsePromText(strings.NewReader("go_goroutines 1234\ngo_memstats_heap_inuse_bytes 5.5e+07\ngo_memstats_stack_inuse_bytes 2.5e+07\n"))
	if err != nil {
		t.Fatal(err)
	}
	heap, ok1 := sumMetric(samples, heapInuseNames, nil)
	gor, ok2 := sumMetric(samples, goroutinesNames, nil)
	stack, ok3 := sumMetric(samples, stackInuseNames, nil)
	if !ok1 || !ok2 || !ok3 || heap != 5.5e7 || gor != 1234 || stack != 2.5e7 {
		t.Fatalf("heap %v (%v) goroutines %v (%v) stacks %v (%v)", heap, ok1, gor, ok2, stack, ok3)
	}
}
