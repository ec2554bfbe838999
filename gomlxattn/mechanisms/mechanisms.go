// Package mechanisms registers every attention mechanism of gomlxattn with package attention.
// Import it for its side effect; a new mechanism package is added here and nowhere else.
package mechanisms

import (
	_ "github.com/attnbench/attnbench/gomlxattn/kernelized" // performer, kernelized_rpe, skyformer, schoenbat
)
