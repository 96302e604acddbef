package soak

// SequenceDiff compares what one side sent with what the other side received.
// Items are opaque, unique tokens ("text:…", "file:<sha256>").
type SequenceDiff struct {
	Expected int // items sent
	Received int // distinct expected items that arrived at least once
	// Lost are expected items that never arrived.
	Lost int
	// Duplicated counts extra arrivals of an item (an item that arrived three
	// times counts 2).
	Duplicated int
	// OutOfOrder is the number of distinct items that must be removed from the
	// arrival order (by first arrival) so the rest is in sending order: the
	// count of arrived items minus the longest in-order subsequence.
	OutOfOrder int
	// Unexpected counts arrivals that were never sent.
	Unexpected int
}

// Clean reports whether nothing was lost, duplicated, reordered or invented.
func (d SequenceDiff) Clean() bool {
	return d.Lost == 0 && d.Duplicated == 0 && d.OutOfOrder == 0 && d.Unexpected == 0
}

// Add accumulates o into d.
func (d *SequenceDiff) Add(o SequenceDiff) {
	d.Expected += o.Expected
	d.Received += o.Received
	d.Lost += o.Lost
	d.Duplicated += o.Duplicated
	d.OutOfOrder += o.OutOfOrder
	d.Unexpected += o.Unexpected
}

// CompareSequences diffs received against expected. expected must not hold the
// same item twice (the soak makes every item unique).
func CompareSequences(expected, received []string) SequenceDiff {
	pos := make(map[string]int, len(expected))
	for i, item := range expected {
		pos[item] = i
	}
	d := SequenceDiff{Expected: len(expected)}
	seen := make(map[string]int, len(received))
	var order []int // expected positions in first-arrival order
	for _, item := range received {
		p, ok := pos[item]
		if !ok {
			d.Unexpected++
			continue
		}
		seen[item]++
		if seen[item] > 1 {
			d.Duplicated++
			continue
		}
		order = append(order, p)
	}
	d.Received = len(order)
	d.Lost = len(expected) - len(order)
	d.OutOfOrder = len(order) - longestIncreasing(order)
	return d
}

// longestIncreasing returns the length of the longest strictly increasing
// subsequence of xs (patience sorting, O(n log n)).
func longestIncreasing(xs []int) int {
	var tails []int
	for _, x := range xs {
		lo, hi := 0, len(tails)
		for lo < hi {
			mid := (lo + hi) / 2
			if tails[mid] < x {
				lo = mid + 1
			} else {
				hi = mid
			}
		}
		if lo == len(tails) {
			tails = append(tails, x)
		} else {
			tails[lo] = x
		}
	}
	return len(tails)
}
