// Package posenc holds the positional encodings of attnbench as GoMLX graph code.
//
// Tensor layout used everywhere in gomlxattn: [batch, seq, heads, dim] ("BSHD").
//
// Encodings come in three families, each an interface:
//
//   - Absolute: added to the token embeddings [B, T, D] (learned, sinusoidal).
//   - QK: transforms queries and keys [B, T, H, Dh] before their product (rotary, xPos).
//   - Relative: a per-head bias on the attention logits. Toeplitz encodings are functions of the
//     offset k = j - i (key minus query) alone and yield the coefficient vector b_k for
//     k in [-(n-1), n-1] in O(n) (T5, ALiBi, KERPLE, Sandwich); [Expand] turns it into the
//     [H, n, n] bias of the softmax path, and kernelized attention consumes exp(b_k) directly.
//     Matrix encodings (FIRE) depend on the query position too and only yield [H, n, n].
//
// Every encoding registers itself with [Register] from its own file, with its parameters,
// defaults and valid ranges; [New] validates a [Config] before any graph is built.
//
// Logit convention (GPT-NeoX, as KERPLE's reference code): biases are added to q.k/sqrt(d_h).
package posenc
