package features

import (
	"hash/fnv"
	"math"
	"math/rand/v2"
)

// Projection is how the rows of W are drawn.
type Projection int

const (
	Gaussian   Projection = iota // w_r ~ N(0, I_d), i.i.d.
	Orthogonal                   // ORF: orthogonal d x d blocks, rows rescaled (see ORFScaling)
	Sphere                       // w_r uniform on the sphere of radius sqrt(d) (Luo et al. section 4.5)
)

// ProjectionNames are the names of the projections, indexed by Projection.
var ProjectionNames = []string{"gaussian", "orthogonal", "sphere"}

func (p Projection) String() string { return ProjectionNames[p] }

// Rng returns the generator of draw number draw for the variable at path.
func Rng(seed uint64, path string, draw int64) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(path))
	return rand.New(rand.NewPCG(seed^h.Sum64(), uint64(draw)*0x9e3779b97f4a7c15+1))
}

// DrawProjection returns W [m][d] flattened row-major. orfScaling 0 rescales ORF rows by
// chi_d draws (each row marginally N(0, I)), 1 by sqrt(d) (Performer's create_projection_matrix).
func DrawProjection(rng *rand.Rand, p Projection, m, d int, orfScaling int) []float64 {
	w := make([]float64, m*d)
	switch p {
	case Gaussian:
		for i := range w {
			w[i] = rng.NormFloat64()
		}
	case Sphere:
		for r := range m {
			row := w[r*d : (r+1)*d]
			for i := range row {
				row[i] = rng.NormFloat64()
			}
			scaleRow(row, math.Sqrt(float64(d))/norm(row))
		}
	case Orthogonal:
		for start := 0; start < m; start += d {
			q := orthogonalBlock(rng, d)
			for r := 0; r < d && start+r < m; r++ {
				copy(w[(start+r)*d:(start+r+1)*d], q[r*d:(r+1)*d])
			}
		}
		for r := range m {
			row := w[r*d : (r+1)*d]
			s := math.Sqrt(float64(d))
			if orfScaling == 0 {
				g := make([]float64, d)
				for i := range g {
					g[i] = rng.NormFloat64()
				}
				s = norm(g)
			}
			scaleRow(row, s) // rows of q are unit vectors
		}
	}
	return w
}

// orthogonalBlock returns the rows of a random orthogonal d x d matrix (Gram-Schmidt on a
// Gaussian matrix, twice for accuracy), row-major.
func orthogonalBlock(rng *rand.Rand, d int) []float64 {
	q := make([]float64, d*d)
	for i := range q {
		q[i] = rng.NormFloat64()
	}
	for r := range d {
		row := q[r*d : (r+1)*d]
		for pass := 0; pass < 2; pass++ {
			for p := range r {
				prev := q[p*d : (p+1)*d]
				dot := 0.0
				for i := range row {
					dot += row[i] * prev[i]
				}
				for i := range row {
					row[i] -= dot * prev[i]
				}
			}
		}
		scaleRow(row, 1/norm(row))
	}
	return q
}

func norm(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x * x
	}
	return math.Sqrt(s)
}

func scaleRow(v []float64, s float64) {
	for i := range v {
		v[i] *= s
	}
}
