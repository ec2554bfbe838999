// Package naive is the float64 plain-Go O(n^2) reference that tests of gomlxattn compare with.
// It shares no code with the graph implementations.
package naive

import "math"

// Tensor4 is a dense [A, B, C, D] float64 array in row-major order.
type Tensor4 struct {
	Dims [4]int
	Data []float64
}

// New4 allocates a zero Tensor4.
func New4(a, b, c, d int) Tensor4 { return Tensor4{[4]int{a, b, c, d}, make([]float64, a*b*c*d)} }

// At returns element (i, j, k, l).
func (t Tensor4) At(i, j, k, l int) float64 { return t.Data[t.idx(i, j, k, l)] }

// Set sets element (i, j, k, l).
func (t Tensor4) Set(i, j, k, l int, v float64) { t.Data[t.idx(i, j, k, l)] = v }

func (t Tensor4) idx(i, j, k, l int) int {
	return ((i*t.Dims[1]+j)*t.Dims[2]+k)*t.Dims[3] + l
}

// Options mirror attention.Options.
type Options struct {
	Causal  bool
	Window  int
	KeyMask [][]bool                  // [B][Sk], nil = all valid
	Bias    func(h, i, j int) float64 // additive bias, nil = none
	Weight  func(h, i, j int) float64 // multiplicative logit weight, nil = 1
	Scale   float64                   // 0 = 1/sqrt(D)
}

// Attention computes softmax attention for q, k [B, S, H, D] and v [B, S, H, Dv]. It returns
// out [B, Sq, H, Dv] and probabilities [B, H, Sq, Sk]; rows with no visible key are zero.
func Attention(q, k, v Tensor4, o Options) (out, probs Tensor4) {
	b, sq, h, d := q.Dims[0], q.Dims[1], q.Dims[2], q.Dims[3]
	sk, dv := k.Dims[1], v.Dims[3]
	scale := o.Scale
	if scale == 0 {
		scale = 1 / math.Sqrt(float64(d))
	}
	out, probs = New4(b, sq, h, dv), New4(b, h, sq, sk)
	for bi := range b {
		for hi := range h {
			for i := range sq {
				row := make([]float64, sk)
				vis := make([]bool, sk)
				mx := math.Inf(-1)
				for j := range sk {
					ii := i + sk - sq
					vis[j] = (!o.Causal || j <= ii) && (o.KeyMask == nil || o.KeyMask[bi][j])
					if o.Window > 0 {
						if o.Causal {
							vis[j] = vis[j] && ii-j < o.Window
						} else {
							vis[j] = vis[j] && abs(ii-j) < o.Window
						}
					}
					if !vis[j] {
						continue
					}
					s := 0.0
					for di := range d {
						s += q.At(bi, i, hi, di) * k.At(bi, j, hi, di)
					}
					s *= scale
					if o.Weight != nil {
						s *= o.Weight(hi, i, j)
					}
					if o.Bias != nil {
						s += o.Bias(hi, i, j)
					}
					row[j] = s
					mx = math.Max(mx, s)
				}
				sum := 0.0
				for j := range sk {
					if vis[j] {
						row[j] = math.Exp(row[j] - mx)
						sum += row[j]
					} else {
						row[j] = 0
					}
				}
				for j := range sk {
					if sum > 0 {
						row[j] /= sum
					}
					probs.Set(bi, hi, i, j, row[j])
					for e := range dv {
						out.Set(bi, i, hi, e, out.At(bi, i, hi, e)+row[j]*v.At(bi, j, hi, e))
					}
				}
			}
		}
	}
	return out, probs
}

// Rotate applies RoPE to x [B, T, H, D] on its first rot dims: pairs (i, i+rot/2), or
// (2i, 2i+1) when interleaved, rotated by angle t*base^(-2i/rot); scale(t, i) multiplies the
// pair (xPos), nil = 1.
func Rotate(x Tensor4, rot int, base float64, interleaved bool, scale func(t, i int) float64) Tensor4 {
	y := Tensor4{x.Dims, append([]float64(nil), x.Data...)}
	for b := range x.Dims[0] {
		for t := range x.Dims[1] {
			for h := range x.Dims[2] {
				for i := range rot / 2 {
					a, c := i, i+rot/2
					if interleaved {
						a, c = 2*i, 2*i+1
					}
					th := float64(t) * math.Pow(base, -2*float64(i)/float64(rot))
					x1, x2 := x.At(b, t, h, a), x.At(b, t, h, c)
					s := 1.0
					if scale != nil {
						s = scale(t, i)
					}
					y.Set(b, t, h, a, s*(x1*math.Cos(th)-x2*math.Sin(th)))
					y.Set(b, t, h, c, s*(x2*math.Cos(th)+x1*math.Sin(th)))
				}
			}
		}
	}
	return y
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// MaxRelErr returns max|a-b| / max|b| (or max|a-b| when b is all zero).
func MaxRelErr(a []float32, b []float64) float64 {
	var num, den float64
	for i := range b {
		num = math.Max(num, math.Abs(float64(a[i])-b[i]))
		den = math.Max(den, math.Abs(b[i]))
	}
	if den == 0 {
		return num
	}
	return num / den
}

// CentralDiff is (f(x_i + eps) - f(x_i - eps)) / 2 eps, with x[i] restored: the finite-difference
// oracle of the gradient tests. f reads x.
func CentralDiff(x []float64, i int, eps float64, f func() float64) float64 {
	x0 := x[i]
	x[i] = x0 + eps
	up := f()
	x[i] = x0 - eps
	down := f()
	x[i] = x0
	return (up - down) / (2 * eps)
}
