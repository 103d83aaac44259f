package heapwatch

import "testing"

var sink []byte

func TestStartSeesGrowth(t *testing.T) {
	stop := Start()
	sink = make([]byte, 64<<20)
	for i := range sink {
		sink[i] = byte(i)
	}
	growth := stop()
	if growth < 32<<20 {
		t.Fatalf("growth %d bytes, want at least the 64 MiB held", growth)
	}
	sink = nil
}
