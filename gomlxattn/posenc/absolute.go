package posenc

import (
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
)

// Absolute encodings are added to the token embeddings.
type Absolute interface {
	Encoding
	// Embed returns x + pe for x [B, T, D] at positions 0..T-1.
	Embed(scope *model.Scope, x *Node) *Node
}

// Bounded encodings support sequences up to MaxSeqLen positions.
type Bounded interface {
	MaxSeqLen() int
}

// QK encodings transform queries and keys before their product.
type QK interface {
	Encoding
	// EncodeQK transforms q and k [B, T, H, Dh] at positions 0..T-1.
	EncodeQK(q, k *Node) (*Node, *Node)
}
