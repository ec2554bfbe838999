package training

import (
	"math"

	. "github.com/gomlx/gomlx/core/graph"
)

// Schedule is the learning rate before optimizer step k+1 (k steps done): linear warmup
// lr*(k+1)/W for k < W, then cosine decay min + (lr-min)(1+cos(pi (k-W)/(S-W)))/2 to step S
// (GPT-NeoX's warmup + cosine, used by KERPLE).
func Schedule(k int, lr, minLR float64, warmup, steps int) float64 {
	if k < warmup {
		return lr * float64(k+1) / float64(warmup)
	}
	span := max(steps-warmup, 1)
	frac := min(float64(k-warmup)/float64(span), 1)
	return minLR + (lr-minLR)*(1+math.Cos(math.Pi*frac))/2
}

// ScheduleGraph is Schedule on a float32 scalar step k in the graph.
func ScheduleGraph(k *Node, lr, minLR float64, warmup, steps int) *Node {
	span := float64(max(steps-warmup, 1))
	warm := MulScalar(AddScalar(k, 1), lr/float64(max(warmup, 1)))
	frac := MinScalar(DivScalar(SubScalar(k, float64(warmup)), span), 1)
	cosine := AddScalar(MulScalar(OnePlus(Cos(MulScalar(frac, math.Pi))), (lr-minLR)/2), minLR)
	return Where(LessThan(k, Scalar(k.Graph(), k.DType(), float64(warmup))), warm, cosine)
}
