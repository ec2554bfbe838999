# Everything builds and runs with GOEXPERIMENT=simd: the Go backend's matmul is several times faster.
export GOEXPERIMENT := simd

.PHONY: run test bench vet noxla

run:
	go run ./workbench/cmd/workbench train

test:
	go vet ./... && go test ./...

bench:
	go test ./gomlxattn/attention/ -run XXX -bench Attention -benchtime 3x -attn.maxn 4096

noxla:
	CGO_ENABLED=0 go build -tags noxla ./...
