// Package inspect reads a trained run back from its directory and looks inside it: the learned
// relative bias against distance (kernel shapes), attention maps, text samples, and the
// conversion of Luo et al. 2021 (a softmax-trained model evaluated with another mechanism).
// Training, checkpoints and evaluation are package run's.
package inspect
