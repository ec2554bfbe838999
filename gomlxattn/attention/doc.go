// Package attention holds attention mechanisms as GoMLX graph code.
//
// Layout: queries, keys and values are [batch, seq, heads, dim] ("BSHD") everywhere in gomlxattn;
// attention probabilities are [batch, heads, query, key].
//
// Exact is exact scaled dot-product attention with causal, key-padding and band (window)
// masks, relative biases from package posenc, attention dropout and optional probabilities.
// Other mechanisms (kernelized attention) implement Mechanism and register themselves, so a
// model picks its attention by name.
package attention
