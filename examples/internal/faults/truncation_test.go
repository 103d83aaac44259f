package faults

import (
	"context"
	"net"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
)

// A cell that fails mid-stream (no Content-Length: a chunked body), by a
// reset connection or by panicking with http.ErrAbortHandler: the gateway
// that proxies it sits behind a Binding, yet the client sees the status
// already sent and a body that breaks, never a well-terminated one.
func TestCellFailsMidStream(t *testing.T) {
	checkLeaks(t)
	s := newStack(t)
	const sent = 64 << 10
	for _, tt := range []struct {
		fault string
		end   func(http.ResponseWriter)
	}{
		{"cell resets mid-stream", func(w http.ResponseWriter) {
			conn, _, err := http.NewResponseController(w).Hijack()
			if err != nil {
				panic(err)
			}
			if tcp, ok := conn.(*net.TCPConn); ok {
				tcp.SetLinger(0) // RST, not FIN
			}
			conn.Close()
		}},
		{"cell aborts mid-stream", func(http.ResponseWriter) { panic(http.ErrAbortHandler) }},
	} {
		t.Run(tt.fault, func(t *testing.T) {
			s.setCell(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusOK)
				w.Write(make([]byte, sent))
				http.NewResponseController(w).Flush()
				tt.end(w)
			})
			a := s.get(context.Background(), "/rest/v1.0/projects", "1")
			assert.Equal(t, http.StatusOK, a.status, "the header was already on its way")
			assert.Error(t, a.readErr, "the truncation is visible to the client")
			assert.LessOrEqual(t, len(a.body), sent)
			row(t, tt.fault, "200 then a body error", a.String()+", "+itoa(len(a.body))+" bytes")
		})
	}
}
