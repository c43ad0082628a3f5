package loadtest

import (
	"math"
	"math/bits"
	"time"
)

// The histogram is log-linear: values below 2^(subBits+1) ns get a bucket
// each, and every power of two above that is split into 2^subBits equal
// buckets, so a bucket's width is at most 1/32 (about 3%) of its value.
// Values of 2^maxBits ns (about 68 s) or more share the last bucket; the
// exact maximum is kept separately.
const (
	subBits  = 5
	subCount = 1 << subBits
	maxBits  = 36
	nBuckets = (maxBits-subBits)*subCount + subCount // index of 2^maxBits - 1, plus one
)

// histogram counts durations in fixed buckets. Its zero value is empty.
// It is not safe for concurrent use; each worker owns one.
type histogram struct {
	counts [nBuckets]uint64
	total  uint64
	max    time.Duration
}

func bucketOf(d time.Duration) int {
	v := uint64(max(d, 0))
	if v >= 1<<maxBits {
		return nBuckets - 1
	}
	if v < 2*subCount {
		return int(v)
	}
	shift := bits.Len64(v) - (subBits + 1)
	return (shift+1)*subCount + int(v>>shift) - subCount
}

// upperBound is the largest value that falls into bucket i.
func upperBound(i int) time.Duration {
	if i < 2*subCount {
		return time.Duration(i)
	}
	shift := i/subCount - 1
	mant := uint64(i%subCount + subCount)
	return time.Duration((mant+1)<<shift - 1)
}

func (h *histogram) record(d time.Duration) {
	h.counts[bucketOf(d)]++
	h.total++
	h.max = max(h.max, d)
}

func (h *histogram) merge(o *histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.total += o.total
	h.max = max(h.max, o.max)
}

// quantile returns an upper estimate (within one bucket, never above the
// maximum) of the q-quantile, 0 < q <= 1, or 0 for an empty histogram.
func (h *histogram) quantile(q float64) time.Duration {
	if h.total == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.total)))
	rank = min(max(rank, 1), h.total)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return min(upperBound(i), h.max)
		}
	}
	return h.max
}
