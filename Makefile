# Everything builds and runs with GOEXPERIMENT=simd: the Go backend's matmul is several times faster.
export GOEXPERIMENT := simd

.PHONY: run notebooks test bench bench-kernelized vet noxla

run:
	go run ./workbench/cmd/workbench train

# Set up Jupyter and GoNB, then execute every notebook in quick mode (the README's main job).
notebooks:
	./notebooks/setup.sh && ./notebooks/run.sh

test:
	go vet ./... && go test ./...

bench:
	go test ./gomlxattn/attention/ -run XXX -bench Attention -benchtime 3x -attn.maxn 4096

# Toeplitz products and kernelized attention, n = 512 ... 16384 (about 20 minutes; BENCHMARKS.md).
bench-kernelized:
	cd gomlxattn/kernelized && go test -run XXX -bench 'Toeplitz|AttentionRPE' -benchtime 1x -timeout 2h \
		-kern.minn 512 -kern.maxn 16384 -kern.densemaxn 8192 -kern.softmaxmaxn 8192

noxla:
	CGO_ENABLED=0 go build -tags noxla ./...
